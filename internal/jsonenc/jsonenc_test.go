package jsonenc

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// marshalMatches checks AppendValue(prefix, v) against encoding/json.
func marshalMatches(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	prefix := []byte("x:")
	got, err := AppendValue(prefix, v)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("error %v, encoding/json's %v", err, wantErr)
	}
	if err != nil {
		if string(got) != "x:" {
			t.Errorf("on error got %q, want the input unchanged", got)
		}
		return
	}
	if !bytes.Equal(got[2:], want) || string(got[:2]) != "x:" {
		t.Errorf("got  %s\nwant x:%s", got, want)
	}
}

func TestAppendValueMatchesEncodingJSON(t *testing.T) {
	type point struct{ X, Y int }
	many := map[string]any{}
	for _, k := range []string{"q", "a", "z", "m", "b", "y", "c", "x", "d", "w", "e", "v", "f", "u", "g", "t", "h", "s"} {
		many[k] = k
	}
	cases := map[string]any{
		"string escapes": "plain <&> \"quoted\" \\ \n\r\t\x01\x1f \u2028\u2029 é 🔑 \xff\xfe",
		"empty string":   "",
		"bools":          []any{true, false},
		"nil":            nil,
		"ints":           []any{0, -1, int64(math.MinInt64), int32(7), uint(8), uint64(math.MaxUint64), uint32(9)},
		"floats":         []any{1.5, 1e21, 1e-7, float32(0.1), 3.0},
		"json numbers":   []any{json.Number("12.50"), json.Number("1e3")},
		"nested": map[string]any{"data": map[string]any{"password": "x"}, "metadata": map[string]any{
			"created_time": "2026-11-24T01:00:00Z", "custom_metadata": nil, "destroyed": false, "version": 1}},
		"more than 16 keys": many,
		"typed":             map[string]any{"ss": []string{"a", "b"}, "nilss": []string(nil), "ms": map[string]string{"b": "1", "a": "2"}, "nilms": map[string]string(nil)},
		"nil map":           map[string]any(nil),
		"nil list":          []any(nil),
		"empty":             map[string]any{},
		"fallback types":    map[string]any{"dur": 5 * time.Second, "t": time.Unix(0, 0).UTC(), "s": point{1, 2}, "b": []byte("hi")},
		"unsupported":       map[string]any{"ok": "x", "ch": make(chan int)},
		"unsupported list":  []any{"x", func() {}},
		"nan":               math.NaN(),
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) { marshalMatches(t, v) })
	}
}

func TestAppendStrings(t *testing.T) {
	for name, tc := range map[string]struct {
		in   []string
		want string
	}{
		"nil":     {nil, "null"},
		"empty":   {[]string{}, "[]"},
		"escaped": {[]string{"a", "<b>"}, `["a","\u003cb\u003e"]`},
	} {
		t.Run(name, func(t *testing.T) {
			if got := string(AppendStrings(nil, tc.in)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// FuzzAppendValue decodes arbitrary JSON (with and without UseNumber) and
// checks that AppendValue writes what encoding/json writes for the result.
func FuzzAppendValue(f *testing.F) {
	for _, s := range []string{`{"a":"b","c":[1,2.5,true,null],"d":{"e":"\u2028<>&"}}`, `"\ud800"`, `[]`,
		`{"z":1,"y":{"x":[{"w":"v"}]}}`, `1e400`, `-0`, `"\u0000\u001f"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, useNumber := range []bool{false, true} {
			dec := json.NewDecoder(bytes.NewReader(in))
			if useNumber {
				dec.UseNumber()
			}
			var v any
			if dec.Decode(&v) != nil {
				return
			}
			marshalMatches(t, v)
		}
		// Raw bytes as a string exercise the escaper on invalid UTF-8.
		marshalMatches(t, string(in))
	})
}

// BenchmarkAppendString: the strings of a KV read's response and audit
// entries (paths, timestamps, HMACs), all plain ASCII.
func BenchmarkAppendString(b *testing.B) {
	ss := []string{"bench-kv-d2d9f33a/data/key-0", "2026-11-24T21:06:47.709579323Z",
		"hmac-sha256:691b7e054ca24e6ac562fb1dec9bd2b90717489966c508f1e62f0b2240a16b50", "read", "value"}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range ss {
			buf = AppendString(buf[:0], s)
		}
	}
}
