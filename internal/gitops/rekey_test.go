package gitops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func writeRules(t *testing.T, dir string, rs ...Recipient) *Config {
	t.Helper()
	cfg := "rules:\n  - path: '**'\n    environment: all\nenvironments:\n  all:\n    recipients:\n"
	for _, r := range rs {
		cfg += "      - " + r.String() + "\n"
	}
	p := filepath.Join(dir, ConfigName)
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeSealedTree writes n sealed YAML files under dir/env and returns
// their plaintexts by path.
func writeSealedTree(t *testing.T, dir string, n int, kr *Keyring, rs ...Recipient) map[string][]byte {
	t.Helper()
	plains := map[string][]byte{}
	for i := range n {
		p := filepath.Join(dir, "env", fmt.Sprintf("d%d", i%10), fmt.Sprintf("f%03d.yaml", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		plain := fmt.Appendf(nil, "# file %d\napp:\n  password: secret-%d\n  replicas: %d\n", i, i, i)
		plains[p] = plain
		if err := os.WriteFile(p, sealBytes(t, kr, YAML, plain, rs...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return plains
}

// TestRekeyRepo seals 200 files for three recipients, drops one from the
// rules, rekeys the tree, and checks who can open what.
func TestRekeyRepo(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	alice, ra := testKeys(t)
	bob, rb := testKeys(t)
	carol, rc := testKeys(t)
	c := writeRules(t, dir, ra, rb, rc)
	plains := writeSealedTree(t, dir, 200, alice, ra, rb, rc)
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("not sealed"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := RekeyPaths(ctx, alice, c, []string{dir}, RekeyOptions{Check: true})
	if err != nil || sum.Files != 200 || sum.Changed != 0 {
		t.Fatalf("check before: %+v %v", sum, err)
	}
	c = writeRules(t, dir, ra, rc)
	sum, err = RekeyPaths(ctx, alice, c, []string{dir}, RekeyOptions{Check: true})
	if err != nil || sum.Changed != 200 {
		t.Fatalf("check after rule change: %+v %v", sum, err)
	}
	calls := 0
	sum, err = RekeyPaths(ctx, alice, c, []string{dir}, RekeyOptions{Progress: func(i, n int, r RekeyReport) {
		calls++
		if n != 200 || r.Err != nil || len(r.Result.Removed) != 1 || r.Result.Removed[0] != rb.String() {
			t.Errorf("progress %d/%d: %+v", i, n, r)
		}
	}})
	if err != nil || sum.Changed != 200 || sum.Failed != 0 || calls != 200 {
		t.Fatalf("rekey: %+v %v (%d progress calls)", sum, err, calls)
	}
	for p, plain := range plains {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
			t.Fatalf("%s: mode changed to %v", p, st.Mode())
		}
		if _, err := openBytes(t, bob, YAML, src); !errors.Is(err, ErrNoIdentity) {
			t.Fatalf("%s: removed recipient: err = %v", p, err)
		}
		for _, kr := range []*Keyring{alice, carol} {
			got, err := openBytes(t, kr, YAML, src)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("%s: remaining recipient: %v", p, err)
			}
		}
	}
	sum, err = RekeyPaths(ctx, alice, c, []string{dir}, RekeyOptions{Check: true})
	if err != nil || sum.Changed != 0 {
		t.Fatalf("check after rekey: %+v %v", sum, err)
	}
}

func TestRekeyKeepsUnchangedStanzas(t *testing.T) {
	ctx := context.Background()
	alice, ra := testKeys(t)
	_, rb := testKeys(t)
	sealed := sealBytes(t, alice, Dotenv, []byte("A=1\nB=2\n"), ra)
	f, err := Parse(Dotenv, sealed)
	if err != nil {
		t.Fatal(err)
	}
	out, res, err := alice.Rekey(ctx, f, []Recipient{ra, rb})
	if err != nil || len(res.Added) != 1 || len(res.Removed) != 0 {
		t.Fatalf("rekey: %+v %v", res, err)
	}
	if !bytes.Contains(out, []byte(f.meta.lines()[1])) || !bytes.HasPrefix(out, f.body) {
		t.Fatalf("rekey changed the body or the kept stanza:\n%s", out)
	}
	if _, _, err := (&Keyring{}).Rekey(ctx, f, []Recipient{rb}); !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("rekey without identity: %v", err)
	}
}

func TestRotateDataKey(t *testing.T) {
	ctx := context.Background()
	alice, ra := testKeys(t)
	plain := []byte("a: 1\nb: two\nc: three\n")
	sealed := sealBytes(t, alice, YAML, plain, ra)
	f, err := Parse(YAML, sealed)
	if err != nil {
		t.Fatal(err)
	}
	oldKey, err := alice.DataKey(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	onlyB := func(p string) bool { return p == "b" }
	out, err := alice.RotateDataKey(ctx, f, []Recipient{ra}, onlyB)
	if err != nil {
		t.Fatal(err)
	}
	nf, err := Parse(YAML, out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte(": 1")) || bytes.Contains(out, []byte("three")) {
		t.Fatalf("rotation unsealed values that were sealed:\n%s", out)
	}
	if _, err := openFields(YAML.walker(), nf.body, oldKey); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("old data key still opens rotated values: %v", err)
	}
	got, err := alice.Open(ctx, nf)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("rotated file: %q %v", got, err)
	}
}
