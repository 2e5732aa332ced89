package barrier

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// fixedNow is the install time the test barriers record.
func fixedNow() time.Time { return time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC) }

// newUnsealed returns an initialized, unsealed barrier over a fresh map
// backend, with its root key.
func newUnsealed(t testing.TB) (*Barrier, *memBackend, []byte) {
	t.Helper()
	mem := newMem()
	b := New(mem, Options{Now: fixedNow})
	root := mustKey(t)
	ctx := context.Background()
	if err := b.Initialize(ctx, root); err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	if err := b.Unseal(ctx, root); err != nil {
		t.Fatalf("Unseal: %v", err)
	}
	return b, mem, root
}

func mustKey(t testing.TB) []byte {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	return k
}

func mustPut(t testing.TB, b storage.Backend, key, value string) {
	t.Helper()
	if err := b.Put(context.Background(), &storage.Entry{Key: key, Value: []byte(value)}); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func mustGet(t testing.TB, b storage.Backend, key string) string {
	t.Helper()
	e, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return string(e.Value)
}

// physKey returns the physical key under which b stores the logical key.
func physKey(t testing.TB, b *Barrier, key string) string {
	t.Helper()
	k, err := b.physicalKey(key)
	if err != nil {
		t.Fatalf("physicalKey(%q): %v", key, err)
	}
	return k
}

// modelList is the reference List: the sorted, distinct storage.Child of
// prefix over keys, nil when there are none.
func modelList(keys []string, prefix string) []string {
	var out []string
	for _, k := range keys {
		if c, ok := storage.Child(prefix, k); ok {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// storedKeyring is the keyring JSON as the package doc describes it,
// declared apart from keyringJSON so that a change of the stored format
// fails the tests.
type storedKeyring struct {
	Terms []struct {
		Term        uint32    `json:"term"`
		Key         []byte    `json:"key"`
		InstallTime time.Time `json:"install_time"`
	} `json:"terms"`
	ActiveTerm uint32 `json:"active_term"`
	PathKey    []byte `json:"path_key"`
}

// openStoredKeyring decrypts the stored keyring by hand, following the
// package documentation: term 0, version 1, AAD "core/keyring", JSON inside.
func openStoredKeyring(t testing.TB, mem *memBackend, root []byte) storedKeyring {
	t.Helper()
	raw := mem.raw(keyringPath)
	if len(raw) < 17 || binary.BigEndian.Uint32(raw) != 0 || raw[4] != 0x1 {
		t.Fatalf("keyring header % x; want term 0, version 1", raw[:min(len(raw), 5)])
	}
	block, err := aes.NewCipher(root)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := gcm.Open(nil, raw[5:17], raw[17:], []byte("core/keyring"))
	if err != nil {
		t.Fatalf("open keyring with the root key: %v", err)
	}
	// Unknown fields fail: the doc must describe every field.
	var doc storedKeyring
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("keyring JSON: %v\n%s", err, plain)
	}
	return doc
}
