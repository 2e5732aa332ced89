package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// recorder is a Backend that records the size of every transaction and can
// fail the n-th one.
type recorder struct {
	storage.Backend
	txnSizes []int
	failAt   int // 1-based; 0 never fails
}

var errInjected = errors.New("injected failure")

func (r *recorder) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	r.txnSizes = append(r.txnSizes, len(ops))
	if len(r.txnSizes) == r.failAt {
		return errInjected
	}
	return r.Backend.Transaction(ctx, ops)
}

func fillTree(t *testing.T, b storage.Backend) {
	t.Helper()
	keys := []string{"mount/leaf", "mount/folder/", "mount/a/b/c/d", "mountain", "other/x", "mount-2/y"}
	for i := range 300 {
		keys = append(keys, fmt.Sprintf("mount/many/%03d", i), fmt.Sprintf("mount/deep/%d/%d/k", i%7, i))
	}
	for _, k := range keys {
		mustPut(t, b, k, "v")
	}
}

func TestDeletePrefix(t *testing.T) {
	tests := []struct {
		prefix   string
		wantRoot []string
	}{
		{"mount/", []string{"mount-2/", "mountain", "other/"}},
		{"mount/many/", []string{"mount-2/", "mount/", "mountain", "other/"}},
		{"nothing/", []string{"mount-2/", "mount/", "mountain", "other/"}},
		{"", nil},
	}
	for _, tc := range tests {
		t.Run("prefix="+tc.prefix, func(t *testing.T) {
			b := &recorder{Backend: inmem.New()}
			fillTree(t, b)
			if err := storage.DeletePrefix(t.Context(), b, tc.prefix); err != nil {
				t.Fatalf("DeletePrefix: %v", err)
			}
			if got := list(t, b, ""); !slices.Equal(got, tc.wantRoot) {
				t.Errorf("List(\"\") after DeletePrefix = %q, want %q", got, tc.wantRoot)
			}
			if got := list(t, b, tc.prefix); got != nil {
				t.Errorf("List(%q) after DeletePrefix = %q, want nil", tc.prefix, got)
			}
			for i, n := range b.txnSizes {
				if n > 128 || n == 0 {
					t.Errorf("transaction %d has %d operations, want 1..128", i, n)
				}
			}
		})
	}
}

func TestDeletePrefixBatches(t *testing.T) {
	b := &recorder{Backend: inmem.New()}
	fillTree(t, b)
	if err := storage.DeletePrefix(t.Context(), b, "mount/many/"); err != nil {
		t.Fatal(err)
	}
	if want := []int{128, 128, 44}; !slices.Equal(b.txnSizes, want) {
		t.Fatalf("transaction sizes = %v, want %v", b.txnSizes, want)
	}
}

func TestDeletePrefixErrors(t *testing.T) {
	t.Run("transaction fails", func(t *testing.T) {
		b := &recorder{Backend: inmem.New(), failAt: 2}
		fillTree(t, b)
		if err := storage.DeletePrefix(t.Context(), b, "mount/"); !errors.Is(err, errInjected) {
			t.Fatalf("DeletePrefix error = %v, want the injected failure", err)
		}
		b.failAt = 0
		if err := storage.DeletePrefix(t.Context(), b, "mount/"); err != nil {
			t.Fatalf("rerun after failure: %v", err)
		}
		if got := list(t, b, "mount/"); got != nil {
			t.Fatalf("rerun left %q", got)
		}
	})
	t.Run("invalid prefix", func(t *testing.T) {
		for _, prefix := range []string{"/x/", "a/../"} {
			if err := storage.DeletePrefix(t.Context(), inmem.New(), prefix); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("DeletePrefix(%q) error = %v, want ErrInvalidKey", prefix, err)
			}
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		b := inmem.New()
		fillTree(t, b)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := storage.DeletePrefix(ctx, b, "mount/"); !errors.Is(err, context.Canceled) {
			t.Fatalf("DeletePrefix error = %v, want context.Canceled", err)
		}
		if list(t, b, "mount/") == nil {
			t.Fatal("cancelled DeletePrefix deleted keys")
		}
	})
}
