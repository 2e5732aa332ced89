package inmem_test

import (
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
	"github.com/cofferdev/coffer/internal/storage/storagetest"
)

func newBackend(testing.TB) storage.Backend { return inmem.New() }

func TestConformance(t *testing.T) {
	storagetest.Run(t, newBackend)
}

func BenchmarkInmem(b *testing.B) {
	storagetest.Bench(b, newBackend)
}

func TestZeroValue(t *testing.T) {
	var b inmem.Backend
	if _, err := b.Get(t.Context(), "k"); err == nil {
		t.Fatal("Get on empty zero value succeeded")
	}
	if got, err := b.List(t.Context(), ""); got != nil || err != nil {
		t.Fatalf("List on zero value = %q, %v", got, err)
	}
	if err := b.Put(t.Context(), &storage.Entry{Key: "k", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if e, err := b.Get(t.Context(), "k"); err != nil || string(e.Value) != "v" {
		t.Fatalf("Get = %v, %v", e, err)
	}
}
