package raft

import (
	"errors"
	"reflect"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

func TestCodecRoundTrip(t *testing.T) {
	ops := []storage.TxnOp{
		{Kind: storage.OpPut, Entry: storage.Entry{Key: "a/b", Value: []byte("value")}},
		{Kind: storage.OpDelete, Entry: storage.Entry{Key: "c"}},
		{Kind: storage.OpPut, Entry: storage.Entry{Key: "empty", Value: []byte{}}},
	}
	got, err := decodeOps(encodeOps(ops))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ops) {
		t.Fatalf("round trip = %+v; want %+v", got, ops)
	}
	for _, bad := range [][]byte{nil, {9}, {commandVersion}, {commandVersion, 1}, {commandVersion, 1, 7, 1, 'a'},
		append(encodeOps(ops), 0), encodeOps(ops)[:10], {commandVersion, 1, byte(storage.OpPut), 1, '/', 0}} {
		if _, err := decodeOps(bad); !errors.Is(err, ErrBadCommand) && !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("decodeOps(%v) = %v; want an error", bad, err)
		}
	}
}

func FuzzDecodeOps(f *testing.F) {
	f.Add(encodeOps([]storage.TxnOp{{Kind: storage.OpPut, Entry: storage.Entry{Key: "k", Value: []byte("v")}}}))
	f.Add(encodeOps([]storage.TxnOp{{Kind: storage.OpDelete, Entry: storage.Entry{Key: "k/x"}}}))
	f.Add([]byte{commandVersion, 200, 200, 200, 200, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		ops, err := decodeOps(b)
		if err != nil {
			return
		}
		again, err := decodeOps(encodeOps(ops))
		if err != nil || len(again) != len(ops) {
			t.Fatalf("re-encoding a decoded command failed: %v", err)
		}
	})
}
