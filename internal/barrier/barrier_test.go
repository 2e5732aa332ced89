package barrier

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

func TestInitializeUnseal(t *testing.T) {
	ctx := context.Background()
	mem := newMem()
	b := New(mem, Options{})
	root := mustKey(t)

	if ok, err := b.Initialized(ctx); err != nil || ok {
		t.Fatalf("Initialized before init = %v, %v; want false, nil", ok, err)
	}
	if err := b.Unseal(ctx, root); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("Unseal before init = %v; want ErrNotInitialized", err)
	}
	if err := b.Initialize(ctx, root[:16]); !errors.Is(err, ErrKeyLength) {
		t.Fatalf("Initialize(16-byte key) = %v; want ErrKeyLength", err)
	}
	if err := b.Initialize(ctx, root); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	if ok, err := b.Initialized(ctx); err != nil || !ok {
		t.Fatalf("Initialized after init = %v, %v; want true, nil", ok, err)
	}
	if err := b.Initialize(ctx, root); !errors.Is(err, ErrAlreadyInitialized) {
		t.Fatalf("second Initialize = %v; want ErrAlreadyInitialized", err)
	}
	if !b.Sealed() {
		t.Fatal("barrier unsealed by Initialize")
	}
	if got := binary.BigEndian.Uint32(mem.raw(keyringPath)); got != keyringTerm {
		t.Fatalf("keyring stored with term %d; want %d", got, keyringTerm)
	}
	if err := b.Unseal(ctx, root); err != nil {
		t.Fatalf("Unseal: %v", err)
	}
	if b.Sealed() {
		t.Fatal("Sealed after Unseal")
	}
	if st := b.KeyStatus(); st.Term != 1 || st.Encryptions != 0 {
		t.Fatalf("KeyStatus = %+v; want term 1, 0 encryptions", st)
	}
}

// TestKeyringFormat opens the stored keyring by hand, following the package
// documentation: term 0, version 1, AAD "core/keyring", JSON inside.
func TestKeyringFormat(t *testing.T) {
	b, mem, root := newUnsealed(t)
	if _, err := b.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	doc := openStoredKeyring(t, mem, root)
	if doc.ActiveTerm != 2 || len(doc.Terms) != 2 {
		t.Fatalf("keyring has active term %d and %d terms; want 2 and 2", doc.ActiveTerm, len(doc.Terms))
	}
	for i, term := range doc.Terms {
		if term.Term != uint32(i+1) || len(term.Key) != KeySize || !term.InstallTime.Equal(fixedNow()) {
			t.Errorf("term %d = %d, %d-byte key, installed %v", i, term.Term, len(term.Key), term.InstallTime)
		}
	}
	if bytes.Equal(doc.Terms[0].Key, doc.Terms[1].Key) {
		t.Error("rotation reused the key")
	}
	if len(doc.PathKey) != KeySize {
		t.Errorf("path_key has %d bytes; want %d", len(doc.PathKey), KeySize)
	}
	for _, term := range doc.Terms {
		if bytes.Equal(doc.PathKey, term.Key) {
			t.Errorf("path key equals the key of term %d", term.Term)
		}
	}
}

func TestUnsealWrongKey(t *testing.T) {
	ctx := context.Background()
	b, mem, root := newUnsealed(t)
	b.Seal()
	other := mustKey(t)
	tests := []struct {
		name string
		key  []byte
	}{
		{"other key", other},
		{"short key", root[:31]},
		{"long key", append(root[:32:32], 0)},
		{"empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := b.Unseal(ctx, tt.key); !errors.Is(err, ErrWrongKey) {
				t.Fatalf("Unseal = %v; want ErrWrongKey", err)
			}
			if !b.Sealed() {
				t.Fatal("unsealed with a wrong key")
			}
		})
	}
	t.Run("tampered keyring", func(t *testing.T) {
		kr := mem.raw(keyringPath)
		kr[len(kr)-1] ^= 1
		mem.setRaw(keyringPath, kr)
		if err := b.Unseal(ctx, root); !errors.Is(err, ErrWrongKey) {
			t.Fatalf("Unseal = %v; want ErrWrongKey", err)
		}
	})
	t.Run("truncated keyring", func(t *testing.T) {
		mem.setRaw(keyringPath, []byte{0, 0, 0, 0, 1})
		if err := b.Unseal(ctx, root); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("Unseal = %v; want ErrDecrypt", err)
		}
	})
}

func TestUnsealTwice(t *testing.T) {
	ctx := context.Background()
	b, _, root := newUnsealed(t)
	if err := b.Unseal(ctx, root); err != nil {
		t.Fatalf("Unseal with the same key: %v", err)
	}
	if err := b.Unseal(ctx, mustKey(t)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Unseal with another key while unsealed = %v; want ErrWrongKey", err)
	}
}

func TestSealZeroesKeys(t *testing.T) {
	b, _, _ := newUnsealed(t)
	mustPut(t, b, "fills/the/segment/cache", "v")
	if _, err := b.List(context.Background(), "fills/"); err != nil {
		t.Fatal(err)
	}
	kr := b.kr
	if enc, dec := kr.paths.cache.len(); enc == 0 || dec == 0 {
		t.Fatalf("segment cache holds %d and %d entries; want some to drop", enc, dec)
	}
	b.Seal()
	var zero [KeySize]byte
	if kr.root.b != zero {
		t.Error("root key not zeroed")
	}
	for term, tk := range kr.terms {
		if tk.key.b != zero {
			t.Errorf("term %d key not zeroed", term)
		}
	}
	if kr.paths.key.b != zero || kr.paths.macKey.b != zero || kr.paths.block != nil {
		t.Error("path keys not zeroed and dropped")
	}
	if enc, dec := kr.paths.cache.len(); enc != 0 || dec != 0 {
		t.Errorf("segment cache holds %d and %d entries after Seal; want none", enc, dec)
	}
	if st := b.KeyStatus(); st != (KeyStatus{}) {
		t.Errorf("KeyStatus while sealed = %+v; want zero", st)
	}
}

func TestSealedEveryMethod(t *testing.T) {
	ctx := context.Background()
	b, _, _ := newUnsealed(t)
	mustPut(t, b, "a/b", "v")
	b.Seal()
	calls := map[string]func() error{
		"Get":    func() error { _, err := b.Get(ctx, "a/b"); return err },
		"GetNew": func() error { _, err := b.Get(ctx, "missing"); return err },
		"Put":    func() error { return b.Put(ctx, &storage.Entry{Key: "a/b", Value: []byte("x")}) },
		"Delete": func() error { return b.Delete(ctx, "a/b") },
		"List":   func() error { _, err := b.List(ctx, "a/"); return err },
		"Transaction": func() error {
			return b.Transaction(ctx, []storage.TxnOp{{Kind: storage.OpDelete, Entry: storage.Entry{Key: "a/b"}}})
		},
		"EmptyTransaction": func() error { return b.Transaction(ctx, nil) },
		"Rotate":           func() error { _, err := b.Rotate(ctx); return err },
		"ReloadKeyring":    func() error { return b.ReloadKeyring(ctx) },
		"RootKey":          func() error { _, err := b.RootKey(); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); !errors.Is(err, ErrSealed) {
				t.Fatalf("%s while sealed = %v; want ErrSealed", name, err)
			}
		})
	}
}

func TestRootKey(t *testing.T) {
	b, _, root := newUnsealed(t)
	got, err := b.RootKey()
	if err != nil {
		t.Fatalf("RootKey: %v", err)
	}
	if string(got) != string(root) {
		t.Fatal("RootKey differs from the key given to Initialize")
	}
	got[0] ^= 0xff
	again, _ := b.RootKey()
	if string(again) != string(root) {
		t.Fatal("modifying the returned root key changed the barrier's copy")
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	b, mem, root := newUnsealed(t)
	mustPut(t, b, "old", "written under term 1")
	mustPut(t, b, "old2", "also term 1")
	if st := b.KeyStatus(); st.Encryptions != 2 || !st.InstallTime.Equal(fixedNow()) {
		t.Fatalf("KeyStatus = %+v; want 2 encryptions, install time %v", st, fixedNow())
	}
	term, err := b.Rotate(ctx)
	if err != nil || term != 2 {
		t.Fatalf("Rotate = %d, %v; want 2, nil", term, err)
	}
	if st := b.KeyStatus(); st.Term != 2 || st.Encryptions != 0 {
		t.Fatalf("KeyStatus after Rotate = %+v; want term 2, 0 encryptions", st)
	}
	mustPut(t, b, "new", "written under term 2")

	for key, want := range map[string]uint32{"old": 1, "new": 2} {
		if got := binary.BigEndian.Uint32(mem.raw(physKey(t, b, key))); got != want {
			t.Errorf("stored term of %q = %d; want %d", key, got, want)
		}
	}
	// A fresh barrier over the same storage reads the rotated keyring.
	b2 := New(mem, Options{})
	if err := b2.Unseal(ctx, root); err != nil {
		t.Fatalf("Unseal after Rotate: %v", err)
	}
	for key, want := range map[string]string{"old": "written under term 1", "new": "written under term 2"} {
		if got := mustGet(t, b2, key); got != want {
			t.Errorf("Get(%q) = %q; want %q", key, got, want)
		}
	}
	if st := b2.KeyStatus(); st.Term != 2 {
		t.Errorf("reloaded active term = %d; want 2", st.Term)
	}
}

func TestRotateWriteFails(t *testing.T) {
	ctx := context.Background()
	b, mem, _ := newUnsealed(t)
	before := mem.raw(keyringPath)
	boom := errors.New("disk full")
	mem.setFailPut(boom)
	if _, err := b.Rotate(ctx); !errors.Is(err, boom) {
		t.Fatalf("Rotate = %v; want the backend error", err)
	}
	mem.setFailPut(nil)
	if st := b.KeyStatus(); st.Term != 1 {
		t.Fatalf("active term after failed Rotate = %d; want 1", st.Term)
	}
	if string(mem.raw(keyringPath)) != string(before) {
		t.Fatal("stored keyring changed by a failed Rotate")
	}
	mustPut(t, b, "k", "v")
	if got := binary.BigEndian.Uint32(mem.raw(physKey(t, b, "k"))); got != 1 {
		t.Fatalf("value written with term %d after failed Rotate; want 1", got)
	}
}

func TestReloadKeyring(t *testing.T) {
	ctx := context.Background()
	active, mem, root := newUnsealed(t)
	standby := New(mem, Options{})
	if err := standby.Unseal(ctx, root); err != nil {
		t.Fatalf("standby Unseal: %v", err)
	}
	mustPut(t, standby, "s", "by standby")
	if _, err := active.Rotate(ctx); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	mustPut(t, active, "a", "by active after rotate")
	if _, err := standby.Get(ctx, "a"); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("standby Get before reload = %v; want ErrDecrypt (unknown term)", err)
	}
	if err := standby.ReloadKeyring(ctx); err != nil {
		t.Fatalf("ReloadKeyring: %v", err)
	}
	if got := mustGet(t, standby, "a"); got != "by active after rotate" {
		t.Fatalf("standby Get after reload = %q", got)
	}
	if st := standby.KeyStatus(); st.Term != 2 {
		t.Fatalf("standby active term = %d; want 2", st.Term)
	}
	t.Run("keeps counters of known terms", func(t *testing.T) {
		b, _, _ := newUnsealed(t)
		mustPut(t, b, "x", "1")
		mustPut(t, b, "y", "2")
		if err := b.ReloadKeyring(ctx); err != nil {
			t.Fatalf("ReloadKeyring: %v", err)
		}
		if st := b.KeyStatus(); st.Encryptions != 2 {
			t.Fatalf("Encryptions after reload = %d; want 2", st.Encryptions)
		}
	})
	t.Run("failure keeps the keyring", func(t *testing.T) {
		mem.setRaw(keyringPath, []byte("garbage"))
		if err := standby.ReloadKeyring(ctx); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("ReloadKeyring = %v; want ErrDecrypt", err)
		}
		if got := mustGet(t, standby, "s"); got != "by standby" {
			t.Fatalf("Get after failed reload = %q", got)
		}
	})
}
