package storage_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
	"github.com/cofferdev/coffer/internal/storage/storagetest"
)

func TestViewConformance(t *testing.T) {
	tests := []struct {
		name string
		view func(storage.Backend) storage.Backend
	}{
		{"one level", func(b storage.Backend) storage.Backend { return storage.NewView(b, "logical/abc/") }},
		{"view of a view", func(b storage.Backend) storage.Backend {
			return storage.NewView(storage.NewView(b, "a/"), "b c/")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Run(t, func(testing.TB) storage.Backend { return tc.view(inmem.New()) })
		})
	}
}

func TestViewTranslatesKeys(t *testing.T) {
	ctx := t.Context()
	under := inmem.New()
	mustPut(t, under, "logical/x/outside", "o")
	mustPut(t, under, "logical/y", "sibling")
	v := storage.NewView(storage.NewView(under, "logical/"), "x/")

	if err := v.Put(ctx, &storage.Entry{Key: "a/b", Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	ops := []storage.TxnOp{
		{Kind: storage.OpPut, Entry: storage.Entry{Key: "c", Value: []byte("2")}},
		{Kind: storage.OpDelete, Entry: storage.Entry{Key: "outside"}},
	}
	if err := v.Transaction(ctx, ops); err != nil {
		t.Fatal(err)
	}
	if got, want := list(t, under, "logical/x/"), []string{"a/", "c"}; !slices.Equal(got, want) {
		t.Errorf("underlying List(logical/x/) = %q, want %q", got, want)
	}
	if got, want := list(t, v, ""), []string{"a/", "c"}; !slices.Equal(got, want) {
		t.Errorf("view List(\"\") = %q, want %q", got, want)
	}
	if got, want := list(t, v, "a/"), []string{"b"}; !slices.Equal(got, want) {
		t.Errorf("view List(a/) = %q, want %q", got, want)
	}
	e, err := v.Get(ctx, "a/b")
	if err != nil || e.Key != "a/b" || string(e.Value) != "1" {
		t.Errorf("view Get(a/b) = %+v, %v; want relative key a/b and value 1", e, err)
	}
	if _, err := v.Get(ctx, "y"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("view reached outside its prefix: Get(y) error = %v", err)
	}
	if err := v.Delete(ctx, "a/b"); err != nil {
		t.Fatal(err)
	}
	if got, want := list(t, under, "logical/"), []string{"x/", "y"}; !slices.Equal(got, want) {
		t.Errorf("underlying List(logical/) = %q, want %q", got, want)
	}
}

func TestViewInvalidPrefix(t *testing.T) {
	for _, prefix := range []string{"", "no-slash", "/abs/", "a/../b/", "a/b"} {
		t.Run(prefix, func(t *testing.T) {
			under := inmem.New()
			v := storage.NewView(under, prefix)
			ctx := t.Context()
			_, getErr := v.Get(ctx, "k")
			_, listErr := v.List(ctx, "")
			errs := map[string]error{
				"Get":         getErr,
				"List":        listErr,
				"Put":         v.Put(ctx, &storage.Entry{Key: "k", Value: []byte("v")}),
				"Delete":      v.Delete(ctx, "k"),
				"Transaction": v.Transaction(ctx, nil),
			}
			for op, err := range errs {
				if !errors.Is(err, storage.ErrInvalidKey) {
					t.Errorf("%s on view with prefix %q: error = %v, want ErrInvalidKey", op, prefix, err)
				}
			}
			if got := list(t, under, ""); got != nil {
				t.Errorf("invalid view wrote %q", got)
			}
			// A valid view over an invalid one still fails.
			if _, err := storage.NewView(v, "ok/").Get(ctx, "k"); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("view of invalid view: Get error = %v, want ErrInvalidKey", err)
			}
		})
	}
}

func mustPut(t testing.TB, b storage.Backend, key, value string) {
	t.Helper()
	if err := b.Put(t.Context(), &storage.Entry{Key: key, Value: []byte(value)}); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func list(t testing.TB, b storage.Backend, prefix string) []string {
	t.Helper()
	got, err := b.List(t.Context(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return got
}
