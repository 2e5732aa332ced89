package gitops

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func FuzzParseToken(f *testing.F) {
	kr, r := testKeys(f)
	sealed := sealBytes(f, kr, Dotenv, []byte("A=hello\n"), r)
	file, _ := Parse(Dotenv, sealed)
	fs, _ := dotenvWalker{}.fields(file.body)
	f.Add(fs[0].value)
	f.Add("ENC[coffer:v1,]")
	f.Add("ENC[coffer:v1,AAAA]")
	f.Add("ENC[coffer:v1,====]")
	f.Add("ENC[coffer:v2,AAAA]")
	k, _ := kr.DataKey(context.Background(), file)
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := ParseToken(s)
		if err != nil {
			if raw != nil {
				t.Fatal("bytes returned with an error")
			}
			return
		}
		if len(raw) < 40 {
			t.Fatalf("accepted a %d-byte token", len(raw))
		}
		pt, err := openValue(k, 0, "A", s)
		if err == nil {
			tok, _ := sealValue(k, 0, "A", pt)
			if tok != s {
				t.Fatalf("opened a token that does not re-seal to itself: %q", s)
			}
		}
	})
}

// FuzzYAMLWalker checks that any YAML the walker accepts seals and opens
// back to the same bytes.
func FuzzYAMLWalker(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/*.yaml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("a: {b: [c, 'd', \"e\"]}\n"))
	f.Add([]byte("- |\n  x\n- >\n  y\n"))
	f.Add([]byte("k: &a !!str v\nl: *a\n"))
	kr, r := testKeys(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 1<<16 {
			return
		}
		if _, err := (yamlWalker{}).fields(src); err != nil {
			return
		}
		file, err := Parse(YAML, src)
		if err != nil || file.IsSealed() {
			return
		}
		sealed, err := kr.Seal(context.Background(), YAML, src, []Recipient{r}, nil)
		if err != nil {
			return // a layout the walker cannot isolate after all
		}
		got, err := openBytes(t, kr, YAML, sealed)
		if err != nil {
			t.Fatalf("sealed output does not open: %v\n%s", err, sealed)
		}
		if !bytes.Equal(got, src) {
			t.Fatalf("round trip differs:\n%q\n%q", got, src)
		}
	})
}

// FuzzRecipientBlock checks the recipient block parsers never panic and
// that what they accept renders back to something they accept.
func FuzzRecipientBlock(f *testing.F) {
	kr, r := testKeys(f)
	f.Add(sealBytes(f, kr, YAML, []byte("a: b\n"), r), false)
	f.Add(sealBytes(f, kr, JSON, []byte(`{"a": "b"}`), r), true)
	f.Add([]byte("#coffer:v1\n#coffer:recipient x y\n#coffer:mac z\n"), false)
	f.Fuzz(func(t *testing.T, src []byte, isJSON bool) {
		format := YAML
		if isJSON {
			format = JSON
		}
		file, err := Parse(format, src)
		if err != nil || !file.IsSealed() {
			return
		}
		out, err := file.Bytes()
		if err != nil {
			return
		}
		again, err := Parse(format, out)
		if err != nil || !again.IsSealed() || len(again.Recipients()) != len(file.Recipients()) {
			t.Fatalf("re-rendered block does not parse: %v", err)
		}
	})
}

// FuzzLineFormats checks .env and INI files seal and open back to the same
// bytes, and that ParseEnv never panics.
func FuzzLineFormats(f *testing.F) {
	for _, name := range []string{"testdata/corpus/app.env", "testdata/corpus/app.ini"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b, name == "testdata/corpus/app.ini")
		}
	}
	f.Add([]byte("A=\"x\\\"y\"\r\nexport B='z'\n"), false)
	kr, r := testKeys(f)
	f.Fuzz(func(t *testing.T, src []byte, ini bool) {
		format := Dotenv
		if ini {
			format = INI
		}
		_, _ = ParseEnv(src)
		if file, err := Parse(format, src); err != nil || file.IsSealed() {
			return
		}
		sealed, err := kr.Seal(context.Background(), format, src, []Recipient{r}, nil)
		if err != nil {
			return
		}
		got, err := openBytes(t, kr, format, sealed)
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("round trip: %v\n%q\n%q", err, got, src)
		}
	})
}

// FuzzParseIdentities: identity files are the user's, but may be anything
// (a wrong file, a damaged key). Parsing one returns identities or an
// error, never panics, and asks for no passphrase before a file needs it.
func FuzzParseIdentities(f *testing.F) {
	f.Add([]byte("AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n"))
	f.Add([]byte("# comment\n\n"))
	f.Add([]byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		asked := false
		ids, err := ParseIdentities(data, "fuzz", func() ([]byte, error) { asked = true; return []byte("x"), nil })
		if asked {
			t.Fatal("a passphrase was asked for while parsing")
		}
		if err == nil && len(ids) == 0 {
			t.Fatal("no identities and no error")
		}
	})
}
