package storagetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

func put(key, value string) storage.TxnOp {
	return storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: key, Value: []byte(value)}}
}

func del(key string) storage.TxnOp {
	return storage.TxnOp{Kind: storage.OpDelete, Entry: storage.Entry{Key: key}}
}

func mustTxn(t testing.TB, b storage.Backend, ops ...storage.TxnOp) {
	t.Helper()
	if err := b.Transaction(t.Context(), ops); err != nil {
		t.Fatalf("Transaction: %v", err)
	}
}

func testTransaction(t *testing.T, b storage.Backend) {
	mustPut(t, b, "t/old", []byte("o"))
	mustPut(t, b, "t/keep", []byte("k"))
	mustTxn(t, b)
	mustTxn(t, b,
		put("t/a", "1"), put("t/b/c", "2"),
		del("t/old"), del("t/missing"), put("t/keep", "k2"))
	for key, want := range map[string]string{"t/a": "1", "t/b/c": "2", "t/keep": "k2"} {
		if got := mustGet(t, b, key).Value; string(got) != want {
			t.Errorf("Get(%q) = %q, want %q", key, got, want)
		}
	}
	if _, err := b.Get(t.Context(), "t/old"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("deleted key: Get error = %v, want ErrNotFound", err)
	}
	if got, want := mustList(t, b, "t/"), []string{"a", "b/", "keep"}; !slices.Equal(got, want) {
		t.Errorf("List(t/) = %q, want %q", got, want)
	}
}

// testTransactionOrder checks that operations on the same key apply in order.
func testTransactionOrder(t *testing.T, b storage.Backend) {
	tests := []struct {
		name string
		ops  []storage.TxnOp
		key  string
		want string // "" means absent
	}{
		{"put then delete", []storage.TxnOp{put("o/1", "v"), del("o/1")}, "o/1", ""},
		{"delete then put", []storage.TxnOp{del("o/2"), put("o/2", "v")}, "o/2", "v"},
		{"put twice", []storage.TxnOp{put("o/3", "v1"), put("o/3", "v2")}, "o/3", "v2"},
		{"put delete put", []storage.TxnOp{put("o/4", "a"), del("o/4"), put("o/4", "b")}, "o/4", "b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustTxn(t, b, tc.ops...)
			e, err := b.Get(t.Context(), tc.key)
			switch {
			case tc.want == "" && !errors.Is(err, storage.ErrNotFound):
				t.Fatalf("Get(%q) = %v, %v; want ErrNotFound", tc.key, e, err)
			case tc.want != "" && err != nil:
				t.Fatalf("Get(%q): %v", tc.key, err)
			case tc.want != "" && string(e.Value) != tc.want:
				t.Fatalf("Get(%q) = %q, want %q", tc.key, e.Value, tc.want)
			}
		})
	}
}

// testTransactionAtomic checks that a transaction with one bad operation
// applies none of its operations.
func testTransactionAtomic(t *testing.T, b storage.Backend) {
	mustPut(t, b, "at/existing", []byte("orig"))
	tests := []struct {
		name    string
		ops     []storage.TxnOp
		wantErr error // nil: any error
	}{
		{"invalid key last", []storage.TxnOp{put("at/new", "v"), del("at/existing"), put("/bad", "v")}, storage.ErrInvalidKey},
		{"invalid key first", []storage.TxnOp{del("a/../b"), put("at/new", "v"), del("at/existing")}, storage.ErrInvalidKey},
		{"empty key in delete", []storage.TxnOp{put("at/new", "v"), del("")}, storage.ErrInvalidKey},
		{"zero kind", []storage.TxnOp{put("at/new", "v"), {Entry: storage.Entry{Key: "at/existing"}}}, nil},
		{"unknown kind", []storage.TxnOp{del("at/existing"), {Kind: 99, Entry: storage.Entry{Key: "at/x"}}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := b.Transaction(t.Context(), tc.ops)
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Transaction error = %v, want %v", err, tc.wantErr)
			}
			if got := mustGet(t, b, "at/existing").Value; string(got) != "orig" {
				t.Fatalf("failed transaction changed at/existing to %q", got)
			}
			if got := mustList(t, b, "at/"); !slices.Equal(got, []string{"existing"}) {
				t.Fatalf("failed transaction left List(at/) = %q", got)
			}
		})
	}
}
