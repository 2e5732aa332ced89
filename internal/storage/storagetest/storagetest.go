// Package storagetest is the conformance suite and benchmark set that every
// storage.Backend must pass; only tests import it.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// Run checks every contract of storage.Backend against backends made by
// newBackend, one fresh, empty backend per subtest. newBackend registers any
// cleanup it needs (closing files, stopping servers) with t.Cleanup. Run
// subtests under -race: some check concurrent readers and writers.
func Run(t *testing.T, newBackend func(t testing.TB) storage.Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b storage.Backend)
	}{
		{"GetMissing", testGetMissing},
		{"PutGet", testPutGet},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"DeleteMissing", testDeleteMissing},
		{"List", testList},
		{"ListNested", testListNested},
		{"ListAfterDelete", testListAfterDelete},
		{"UnusualKeys", testUnusualKeys},
		{"InvalidKeys", testInvalidKeys},
		{"PutNil", testPutNil},
		{"LargeValue", testLargeValue},
		{"ValuesCopied", testValuesCopied},
		{"Transaction", testTransaction},
		{"TransactionOrder", testTransactionOrder},
		{"TransactionAtomic", testTransactionAtomic},
		{"ConcurrentTransactions", testConcurrentTransactions},
		{"ConcurrentPutGet", testConcurrentPutGet},
		{"ContextDone", testContextDone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newBackend(t))
		})
	}
}

func testGetMissing(t *testing.T, b storage.Backend) {
	mustPut(t, b, "present/key", []byte("v"))
	for _, key := range []string{"missing", "present", "present/key/child", "present/ke"} {
		t.Run(key, func(t *testing.T) {
			e, err := b.Get(t.Context(), key)
			if !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("Get(%q) error = %v, want ErrNotFound", key, err)
			}
			if e != nil {
				t.Fatalf("Get(%q) entry = %+v, want nil", key, e)
			}
		})
	}
}

func testPutGet(t *testing.T, b storage.Backend) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	tests := []struct {
		name, key string
		value     []byte
	}{
		{"simple", "foo", []byte("bar")},
		{"nested", "a/b/c/d", []byte("deep")},
		{"empty value", "empty", []byte{}},
		{"nil value", "nil", nil},
		{"every byte", "binary", all},
		{"trailing slash key", "folder-like/", []byte("x")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustPut(t, b, tc.key, tc.value)
			e := mustGet(t, b, tc.key)
			if e.Key != tc.key {
				t.Errorf("Get(%q).Key = %q", tc.key, e.Key)
			}
			if !bytes.Equal(e.Value, tc.value) {
				t.Errorf("Get(%q).Value = %q, want %q", tc.key, e.Value, tc.value)
			}
		})
	}
}

func testOverwrite(t *testing.T, b storage.Backend) {
	values := [][]byte{[]byte("first, a long value"), []byte("2nd"), {}, []byte("last")}
	for _, v := range values {
		mustPut(t, b, "k", v)
		if got := mustGet(t, b, "k").Value; !bytes.Equal(got, v) {
			t.Fatalf("after overwrite Get = %q, want %q", got, v)
		}
	}
	if got := mustList(t, b, ""); !slices.Equal(got, []string{"k"}) {
		t.Fatalf("List after overwrites = %q, want [k]", got)
	}
}

func testDelete(t *testing.T, b storage.Backend) {
	mustPut(t, b, "a/keep", []byte("1"))
	mustPut(t, b, "a/gone", []byte("2"))
	if err := b.Delete(t.Context(), "a/gone"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := b.Get(t.Context(), "a/gone"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get after Delete error = %v, want ErrNotFound", err)
	}
	if got := mustGet(t, b, "a/keep").Value; string(got) != "1" {
		t.Fatalf("sibling value = %q, want 1", got)
	}
	if got := mustList(t, b, "a/"); !slices.Equal(got, []string{"keep"}) {
		t.Fatalf("List after Delete = %q, want [keep]", got)
	}
	mustPut(t, b, "a/gone", []byte("3"))
	if got := mustGet(t, b, "a/gone").Value; string(got) != "3" {
		t.Fatalf("Put after Delete: Get = %q, want 3", got)
	}
}

func testDeleteMissing(t *testing.T, b storage.Backend) {
	mustPut(t, b, "x/y", []byte("v"))
	for _, key := range []string{"missing", "x", "x/y/z", "x/"} {
		if err := b.Delete(t.Context(), key); err != nil {
			t.Errorf("Delete(%q) of absent key: %v", key, err)
		}
	}
	if got := mustGet(t, b, "x/y").Value; string(got) != "v" {
		t.Fatalf("unrelated key changed to %q", got)
	}
}

func testInvalidKeys(t *testing.T, b storage.Backend) {
	ctx := t.Context()
	for _, key := range []string{"", "/", "/leading", "..", "a/../b", "a/..", "../a", "a..b"} {
		t.Run(key, func(t *testing.T) {
			checks := map[string]error{
				"Get":    func() error { _, err := b.Get(ctx, key); return err }(),
				"Put":    b.Put(ctx, &storage.Entry{Key: key, Value: []byte("v")}),
				"Delete": b.Delete(ctx, key),
				"Transaction": b.Transaction(ctx, []storage.TxnOp{
					{Kind: storage.OpPut, Entry: storage.Entry{Key: key, Value: []byte("v")}},
				}),
			}
			if key != "" { // "" is the root prefix, valid for List
				_, checks["List"] = b.List(ctx, key+"/")
			}
			for op, err := range checks {
				if !errors.Is(err, storage.ErrInvalidKey) {
					t.Errorf("%s(%q) error = %v, want ErrInvalidKey", op, key, err)
				}
			}
		})
	}
	if got := mustList(t, b, ""); got != nil {
		t.Fatalf("invalid writes stored something: List = %q", got)
	}
}

func testPutNil(t *testing.T, b storage.Backend) {
	if err := b.Put(t.Context(), nil); !errors.Is(err, storage.ErrInvalidKey) {
		t.Fatalf("Put(nil) error = %v, want ErrInvalidKey", err)
	}
}

func testLargeValue(t *testing.T, b storage.Backend) {
	const size = 1 << 20
	for i, fill := range []byte{0xA5, 0x3C} {
		v := bytes.Repeat([]byte{fill}, size)
		v[0], v[size-1] = byte(i), byte(i+1) // catch truncation at either end
		mustPut(t, b, "large", v)
		got := mustGet(t, b, "large").Value
		if !bytes.Equal(got, v) {
			t.Fatalf("round %d: 1 MiB value came back as %d bytes, not equal", i, len(got))
		}
	}
}

func testValuesCopied(t *testing.T, b storage.Backend) {
	ctx := t.Context()
	put := []byte("original")
	mustPut(t, b, "k", put)
	copy(put, "mutated!")
	got := mustGet(t, b, "k").Value
	if string(got) != "original" {
		t.Fatalf("mutating the slice given to Put changed stored data to %q", got)
	}
	copy(got, "MUTATED!")
	if again := mustGet(t, b, "k").Value; string(again) != "original" {
		t.Fatalf("mutating the slice returned by Get changed stored data to %q", again)
	}
	txnValue := []byte("txn-value")
	ops := []storage.TxnOp{{Kind: storage.OpPut, Entry: storage.Entry{Key: "t", Value: txnValue}}}
	if err := b.Transaction(ctx, ops); err != nil {
		t.Fatalf("Transaction: %v", err)
	}
	copy(txnValue, "XXXXXXXXX")
	if got := mustGet(t, b, "t").Value; string(got) != "txn-value" {
		t.Fatalf("mutating a transaction's value changed stored data to %q", got)
	}
}

func testContextDone(t *testing.T, b storage.Backend) {
	mustPut(t, b, "existing", []byte("v"))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel2()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"deadline", expired, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkContextDone(t, b, tc.ctx, tc.want)
		})
	}
	if got := mustGet(t, b, "existing").Value; string(got) != "v" {
		t.Fatalf("existing key changed to %q", got)
	}
	if got := mustList(t, b, ""); !slices.Equal(got, []string{"existing"}) {
		t.Fatalf("calls with a done context changed storage: List = %q", got)
	}
}

func checkContextDone(t *testing.T, b storage.Backend, ctx context.Context, want error) {
	t.Helper()
	_, getErr := b.Get(ctx, "existing")
	_, listErr := b.List(ctx, "")
	checks := map[string]error{
		"Get":    getErr,
		"List":   listErr,
		"Put":    b.Put(ctx, &storage.Entry{Key: "new", Value: []byte("v")}),
		"Delete": b.Delete(ctx, "existing"),
		"Transaction": b.Transaction(ctx, []storage.TxnOp{
			{Kind: storage.OpPut, Entry: storage.Entry{Key: "txn", Value: []byte("v")}},
			{Kind: storage.OpDelete, Entry: storage.Entry{Key: "existing"}},
		}),
	}
	for op, err := range checks {
		if !errors.Is(err, want) {
			t.Errorf("%s with done context: error = %v, want %v", op, err, want)
		}
	}
}
