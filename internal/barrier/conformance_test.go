package barrier

import (
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
	"github.com/cofferdev/coffer/internal/storage/storagetest"
)

// TestConformance runs the storage.Backend conformance suite against an
// unsealed barrier over the in-memory backend.
func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t testing.TB) storage.Backend {
		b := New(inmem.New(), Options{})
		root := mustKey(t)
		if err := b.Initialize(t.Context(), root); err != nil {
			t.Fatal(err)
		}
		if err := b.Unseal(t.Context(), root); err != nil {
			t.Fatal(err)
		}
		return b
	})
}
