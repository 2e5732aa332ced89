package barrier

import (
	"context"
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
