package gitops

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

// testKeys returns a keyring holding one new age identity and its recipient.
func testKeys(t testing.TB) (*Keyring, Recipient) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRecipient(id.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	return &Keyring{Identities: []age.Identity{id}}, r
}

func sealBytes(t testing.TB, kr *Keyring, f Format, plain []byte, rs ...Recipient) []byte {
	t.Helper()
	out, err := kr.Seal(context.Background(), f, plain, rs, nil)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	return out
}

func openBytes(t testing.TB, kr *Keyring, f Format, sealed []byte) ([]byte, error) {
	t.Helper()
	file, err := Parse(f, sealed)
	if err != nil {
		return nil, err
	}
	return kr.Open(context.Background(), file)
}

// skeleton replaces every value span by a marker, leaving the layout.
func skeleton(t *testing.T, f Format, body []byte) (string, []string) {
	t.Helper()
	fs, err := f.walker().fields(body)
	if err != nil {
		t.Fatalf("fields: %v", err)
	}
	var paths []string
	for _, fl := range fs {
		paths = append(paths, fl.path)
	}
	out, err := splice(body, fs, func(field) (string, bool, error) { return "<V>", true, nil })
	if err != nil {
		t.Fatal(err)
	}
	return string(out), paths
}

func TestRoundTripCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	kr, r := testKeys(t)
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			plain, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			format, err := FormatFor(name)
			if err != nil {
				t.Fatal(err)
			}
			sealed := sealBytes(t, kr, format, plain, r)
			if bytes.Equal(sealed, plain) {
				t.Fatal("sealing changed nothing")
			}
			got, err := openBytes(t, kr, format, sealed)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("round trip differs:\n--- got\n%s\n--- want\n%s", got, plain)
			}
			file, err := Parse(format, sealed)
			if err != nil {
				t.Fatal(err)
			}
			wantSkel, wantPaths := skeleton(t, format, plain)
			gotSkel, gotPaths := skeleton(t, format, file.body)
			if gotSkel != wantSkel || strings.Join(gotPaths, "\n") != strings.Join(wantPaths, "\n") {
				t.Fatalf("sealing changed more than values:\n--- sealed\n%s\n--- plain\n%s", gotSkel, wantSkel)
			}
			again := sealBytes(t, kr, format, plain, r)
			f2, _ := Parse(format, again)
			resealed, err := kr.Reseal(context.Background(), file, plain, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(resealed, sealed) {
				t.Fatalf("reseal of unchanged content is not identical")
			}
			if bytes.Equal(f2.body, file.body) {
				t.Fatalf("two seals with fresh data keys gave identical values")
			}
		})
	}
}

func TestKubernetesSecretSealsOnlyData(t *testing.T) {
	kr, r := testKeys(t)
	plain, err := os.ReadFile("testdata/corpus/k8s-secret.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sealed := string(sealBytes(t, kr, YAML, plain, r))
	for _, clear := range []string{"name: app-credentials", "namespace: prod", "type: Opaque", "LOG_LEVEL: debug", "kind: Secret"} {
		if !strings.Contains(sealed, clear) {
			t.Errorf("sealed manifest lost %q", clear)
		}
	}
	for _, secret := range []string{"YWRtaW4=", "c3VwZXJzZWNyZXQ=", "token: abc123", `"xyz"`} {
		if strings.Contains(sealed, secret) {
			t.Errorf("sealed manifest still holds %q", secret)
		}
	}
}

func TestSelectorLeavesOtherValues(t *testing.T) {
	kr, r := testKeys(t)
	c, err := ParseConfig([]byte("rules:\n  - path: '**'\n    environment: e\n    encrypted_regex: ^password$\nenvironments:\n  e:\n    recipients: [" + r.String() + "]\n"))
	if err != nil {
		t.Fatal(err)
	}
	sel := c.Rules[0].selector()
	plain := []byte("db:\n  user: app\n  password: hunter2\nlist:\n  - password: x\n")
	out, err := kr.Seal(context.Background(), YAML, plain, []Recipient{r}, sel)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.Contains(s, "user: app") || strings.Contains(s, "hunter2") || strings.Contains(s, "password: x") {
		t.Fatalf("selector not applied:\n%s", s)
	}
}
