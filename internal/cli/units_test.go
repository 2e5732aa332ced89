package cli

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNormalizeArgs(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"single-dash long flag", []string{"-format=json", "kv"}, []string{"--format=json", "kv"}},
		{"flag with separate value", []string{"-address", "http://x"}, []string{"--address", "http://x"}},
		{"double dash unchanged", []string{"--field=a"}, []string{"--field=a"}},
		{"short flag unchanged", []string{"-h", "-f"}, []string{"-h", "-f"}},
		{"lone dash unchanged", []string{"write", "x", "-"}, []string{"write", "x", "-"}},
		{"negative number unchanged", []string{"-1", "-2s"}, []string{"-1", "-2s"}},
		{"dash letter digit unchanged", []string{"-a1"}, []string{"-a1"}},
		{"after -- untouched", []string{"-cas=1", "--", "-format=json"}, []string{"--cas=1", "--", "-format=json"}},
		{"key=value untouched", []string{"password=-secret"}, []string{"password=-secret"}},
		{"hyphenated flag", []string{"-tls-skip-verify"}, []string{"--tls-skip-verify"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normalizeArgs(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("normalizeArgs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseData(t *testing.T) {
	dir := t.TempDir()
	valueFile := filepath.Join(dir, "v.txt")
	jsonFile := filepath.Join(dir, "d.json")
	if err := os.WriteFile(valueFile, []byte("file\ncontents"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jsonFile, []byte(`{"j":"son","n":2}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		stdin   string
		want    map[string]any
		wantErr string
	}{
		{name: "plain", args: []string{"a=b", "c=d=e"}, want: map[string]any{"a": "b", "c": "d=e"}},
		{name: "empty value", args: []string{"a="}, want: map[string]any{"a": ""}},
		{name: "file value", args: []string{"a=@" + valueFile}, want: map[string]any{"a": "file\ncontents"}},
		{name: "escaped at", args: []string{`a=\@literal`}, want: map[string]any{"a": "@literal"}},
		{name: "stdin value", args: []string{"a=-"}, stdin: "from\nstdin\n", want: map[string]any{"a": "from\nstdin\n"}},
		{name: "stdin JSON merged", args: []string{"-", "x=y"}, stdin: `{"a":"b","n":1}`,
			want: map[string]any{"a": "b", "n": jsonNumber("1"), "x": "y"}},
		{name: "file JSON merged", args: []string{"@" + jsonFile}, want: map[string]any{"j": "son", "n": jsonNumber("2")}},
		{name: "repeated key becomes a list", args: []string{"a=1", "a=2", "a=3"}, want: map[string]any{"a": []any{"1", "2", "3"}}},
		{name: "empty argument ignored", args: []string{"", "a=b"}, want: map[string]any{"a": "b"}},
		{name: "stdin twice", args: []string{"a=-", "b=-"}, stdin: "x", wantErr: errStdinUsed.Error()},
		{name: "no equals", args: []string{"novalue"}, wantErr: "format must be key=value"},
		{name: "empty key", args: []string{"=v"}, wantErr: "empty key"},
		{name: "missing file", args: []string{"a=@" + filepath.Join(dir, "nope")}, wantErr: "no such file"},
		{name: "bad stdin JSON", args: []string{"-"}, stdin: "[1,2]", wantErr: "decode JSON object"},
		{name: "secret value kept out of errors", args: []string{"password=@/nonexistent/hunter2"}, wantErr: `"password=..."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseData(tt.args, strings.NewReader(tt.stdin))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseData = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "90", want: 90 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "7d", want: 7 * 24 * time.Hour},
		{in: "0s", want: 0},
		{in: "-5", wantErr: true},
		{in: "-1h", wantErr: true},
		{in: "xd", wantErr: true},
		{in: "soon", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDuration(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseDuration(%q) = %v, %v; want %v, err=%t", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestDecodeRootToken(t *testing.T) {
	const token = "hvs.abcdefghijklmnopqrstuvwx"
	otp, err := randomBase62(len(token))
	if err != nil {
		t.Fatal(err)
	}
	xored := make([]byte, len(token))
	for i := range xored {
		xored[i] = token[i] ^ otp[i]
	}
	tests := []struct {
		name, encoded, otp, want, wantErr string
	}{
		{name: "unpadded", encoded: base64.RawStdEncoding.EncodeToString(xored), otp: otp, want: token},
		{name: "padded", encoded: base64.StdEncoding.EncodeToString(xored), otp: otp, want: token},
		{name: "wrong otp length", encoded: base64.RawStdEncoding.EncodeToString(xored), otp: otp[:10], wantErr: "one-time password is 10"},
		{name: "not base64", encoded: "!!!", otp: otp, wantErr: "not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeRootToken(tt.encoded, tt.otp)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("decodeRootToken = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestRandomBase62(t *testing.T) {
	a, err := randomBase62(28)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := randomBase62(28)
	if len(a) != 28 || a == b {
		t.Errorf("randomBase62 gave %q and %q; want two different 28-character strings", a, b)
	}
	if strings.Trim(a, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
		t.Errorf("%q has characters outside base62", a)
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		in   any
		want any
	}{
		{jsonNumber("2764800"), "768h"},
		{jsonNumber("5400"), "1h30m"},
		{jsonNumber("3661"), "1h1m1s"},
		{jsonNumber("0"), "0s"},
		{"60", "1m"},
		{"1h", "1h"}, // not seconds: left as is
		{true, true},
	}
	for _, tt := range tests {
		if got := humanDurationValue(tt.in); got != tt.want {
			t.Errorf("humanDurationValue(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestPadEqualSigns(t *testing.T) {
	tests := []struct {
		title string
		width int
		want  string
	}{
		{"Secret Path", 15, "= Secret Path ="},
		{"Secret Path", 17, "== Secret Path =="},
		{"Data", 12, "=== Data ==="},
		{"Metadata", 1, "== Metadata =="},
		{"Data", 13, "==== Data ===="},
	}
	for _, tt := range tests {
		if got := padEqualSigns(tt.title, tt.width); got != tt.want {
			t.Errorf("padEqualSigns(%q, %d) = %q, want %q", tt.title, tt.width, got, tt.want)
		}
	}
}

func TestExitErrUnwraps(t *testing.T) {
	inner := errors.New("inner")
	if err := error(&exitErr{code: 2, err: inner}); !errors.Is(err, inner) {
		t.Errorf("exitErr does not unwrap to its cause")
	}
}
