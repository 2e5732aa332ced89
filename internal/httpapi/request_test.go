package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestDecodeJSONObject(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    map[string]any
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"whitespace", " \n\t", nil, ""},
		{"null", "null", nil, ""},
		{"object", `{"a":"b","n":12345678901234567890}`, map[string]any{"a": "b", "n": json.Number("12345678901234567890")}, ""},
		{"array", `[1]`, nil, "must be a JSON object"},
		{"string", `"x"`, nil, "must be a JSON object"},
		{"truncated", `{"a":`, nil, "malformed JSON"},
		{"two objects", `{} {}`, nil, "unexpected data"},
		{"trailing garbage", `{}x`, nil, "unexpected data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeJSONObject([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v; want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v; want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Fatalf("%s = %#v; want %#v", k, got[k], v)
				}
			}
		})
	}
}

// plainBodies are bodies decodePlainObject decodes itself.
var plainBodies = []string{
	`{}`, ` {"a":"b"} `, `{"plaintext":"aGVsbG8="}`, "{\"data\":{\"x\":[1,\"2\",null,true,false,{}, []]}}\n",
	`{"n":-0.5e+10,"m":12345678901234567890,"z":0,"e":1E-2}`, `{"ü":"日本","a":"b","a":"c"}`,
	`{"deep":` + strings.Repeat(`[`, maxPlainDepth-1) + strings.Repeat(`]`, maxPlainDepth-1) + `}`,
}

// stdBodies are bodies decodePlainObject leaves to encoding/json: escapes,
// control characters, invalid UTF-8, deep nesting, other tops, bad syntax.
var stdBodies = []string{
	`{"a":"\n"}`, `{"a\u0041":1}`, "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", `null`, `[]`, `"x"`,
	`{"deep":` + strings.Repeat(`[`, maxPlainDepth) + strings.Repeat(`]`, maxPlainDepth) + `}`,
	`{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a":1,}`, `{"a" 1}`, `{"a":1}x`, `{} {}`, `{"a":`, `{'a':1}`,
}

// TestDecodePlainObject checks that the one-pass decoder takes the bodies
// it should, giving exactly encoding/json's values, and leaves the rest.
func TestDecodePlainObject(t *testing.T) {
	for _, body := range plainBodies {
		got, ok := decodePlainObject([]byte(body))
		want, err := decodeJSONObjectStd([]byte(body))
		if !ok || err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: plain %#v (ok %v), encoding/json %#v (err %v)", body, got, ok, want, err)
		}
	}
	for _, body := range stdBodies {
		if got, ok := decodePlainObject([]byte(body)); ok {
			t.Errorf("%q: decoded to %#v; want it left to encoding/json", body, got)
		}
	}
}

// FuzzDecodeJSONObject: any body either decodes to an object that survives
// a marshal round trip, or fails with a message that does not echo input;
// and a body the one-pass decoder takes decodes exactly as encoding/json
// decodes it.
func FuzzDecodeJSONObject(f *testing.F) {
	for _, s := range []string{"", "{}", `{"a":1}`, `{"data":{"x":[1,"2",null,true]}}`, "[", `{"a":"\u0000"}`, "null", `{"a":1e400}`} {
		f.Add([]byte(s))
	}
	for _, s := range append(plainBodies, stdBodies...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if plain, ok := decodePlainObject(body); ok {
			want, err := decodeJSONObjectStd(body)
			if err != nil || !reflect.DeepEqual(plain, want) {
				t.Fatalf("one-pass decoder: %#v; encoding/json: %#v, %v", plain, want, err)
			}
		}
		m, err := DecodeJSONObject(body)
		if err != nil {
			if len(body) > 8 && strings.Contains(err.Error(), string(body)) {
				t.Fatalf("error echoes the input: %v", err)
			}
			return
		}
		if m == nil {
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("decoded object does not marshal: %v", err)
		}
		again, err := DecodeJSONObject(b)
		if err != nil || len(again) != len(m) {
			t.Fatalf("round trip changed the object: %v", err)
		}
	})
}

func TestValidatePath(t *testing.T) {
	for path, ok := range map[string]bool{
		"secret/data/x": true, "sys/mounts": true, "": false, "a//b": false, "/abs": false,
		"a/../b": false, "a/./b": false, strings.Repeat("a", maxPathLength+1): false,
	} {
		if err := validatePath(path); (err == nil) != ok {
			t.Errorf("validatePath(%q) = %v; want ok=%v", path, err, ok)
		}
	}
}

func TestOperationFor(t *testing.T) {
	for _, tc := range []struct {
		method, url string
		want        logical.Operation
		ok          bool
	}{
		{"GET", "/v1/x", logical.ReadOperation, true},
		{"GET", "/v1/x?list=true", logical.ListOperation, true},
		{"LIST", "/v1/x", logical.ListOperation, true},
		{"POST", "/v1/x", logical.UpdateOperation, true},
		{"PUT", "/v1/x", logical.UpdateOperation, true},
		{"PATCH", "/v1/x", logical.PatchOperation, true},
		{"DELETE", "/v1/x", logical.DeleteOperation, true},
		{"TRACE", "/v1/x", "", false},
	} {
		r := httptest.NewRequest(tc.method, tc.url, nil)
		got, ok := operationFor(r)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s %s = %q, %v; want %q, %v", tc.method, tc.url, got, ok, tc.want, tc.ok)
		}
	}
}

func TestWrapTTLHeader(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 0, "300": 5 * time.Minute, "5m": 5 * time.Minute} {
		r := httptest.NewRequest("GET", "/v1/x", nil)
		if v != "" {
			r.Header.Set("X-Vault-Wrap-TTL", v)
		}
		got, err := wrapTTLHeader(r)
		if err != nil || got != want {
			t.Errorf("wrap TTL %q = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, bad := range []string{"0", "abc", "-5"} {
		r := httptest.NewRequest("GET", "/v1/x", nil)
		r.Header.Set("X-Vault-Wrap-TTL", bad)
		if _, err := wrapTTLHeader(r); err == nil {
			t.Errorf("wrap TTL %q accepted", bad)
		}
	}
}

func TestClientToken(t *testing.T) {
	r := httptest.NewRequest("GET", "/v1/x", nil)
	r.Header.Set("Authorization", "Bearer abc")
	if got := clientToken(r); got != "abc" {
		t.Fatalf("bearer = %q", got)
	}
	r.Header.Set("X-Vault-Token", "xyz")
	if got := clientToken(r); got != "xyz" {
		t.Fatalf("X-Vault-Token should win, got %q", got)
	}
}

func TestNewRequestID(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for i := range 100 {
		id := newRequestID()
		if !shape.MatchString(id) {
			t.Fatalf("id %d %q is not UUID-shaped", i, id)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
	}
}

// BenchmarkDecodeJSONObject decodes a transit encrypt body and a KV v2
// write body, with the one-pass decoder (plain) and with encoding/json
// alone (std).
func BenchmarkDecodeJSONObject(b *testing.B) {
	bodies := []struct{ name, body string }{
		{"transit", `{"plaintext":"c2VjcmV0LXZhbHVlLW9mLXNpeHR5LWZvdXItYnl0ZXMtZm9yLXRoZS1iZW5jaG1hcmstcnVu"}`},
		{"kv-write", `{"data":{"username":"app","password":"c2VjcmV0LXZhbHVl","port":5432},"options":{"cas":3}}`},
	}
	for _, bb := range bodies {
		body := []byte(bb.body)
		b.Run(bb.name+"/plain", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeJSONObject(body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bb.name+"/std", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeJSONObjectStd(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
