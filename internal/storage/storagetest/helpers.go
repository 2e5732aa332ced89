package storagetest

import (
	"slices"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

func mustPut(t testing.TB, b storage.Backend, key string, value []byte) {
	t.Helper()
	if err := b.Put(t.Context(), &storage.Entry{Key: key, Value: value}); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func mustGet(t testing.TB, b storage.Backend, key string) *storage.Entry {
	t.Helper()
	e, err := b.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if e == nil {
		t.Fatalf("Get(%q) returned a nil entry and no error", key)
	}
	return e
}

func mustList(t testing.TB, b storage.Backend, prefix string) []string {
	t.Helper()
	got, err := b.List(t.Context(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return got
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
