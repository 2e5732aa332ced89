package storage_test

import (
	"errors"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

func TestValidateOps(t *testing.T) {
	put := func(k string) storage.TxnOp {
		return storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: k}}
	}
	tests := []struct {
		name string
		ops  []storage.TxnOp
		want error
	}{
		{"empty", nil, nil},
		{"valid", []storage.TxnOp{put("a"), {Kind: storage.OpDelete, Entry: storage.Entry{Key: "b/c"}}}, nil},
		{"bad key", []storage.TxnOp{put("a"), put("../x")}, storage.ErrInvalidKey},
		{"zero kind", []storage.TxnOp{{Entry: storage.Entry{Key: "a"}}}, storage.ErrInvalidOp},
		{"unknown kind", []storage.TxnOp{put("a"), {Kind: 3, Entry: storage.Entry{Key: "a"}}}, storage.ErrInvalidOp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := storage.ValidateOps(tc.ops)
			if (tc.want == nil) != (err == nil) || !errors.Is(err, tc.want) {
				t.Fatalf("ValidateOps error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestValidatePrefixAndEntry(t *testing.T) {
	tests := []struct {
		prefix string
		ok     bool
	}{
		{"", true}, {"a/", true}, {"a", true}, {"/a/", false}, {"a/../", false},
	}
	for _, tc := range tests {
		if err := storage.ValidatePrefix(tc.prefix); (err == nil) != tc.ok {
			t.Errorf("ValidatePrefix(%q) = %v, want ok=%v", tc.prefix, err, tc.ok)
		}
	}
	if err := storage.ValidateEntry(nil); !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("ValidateEntry(nil) = %v, want ErrInvalidKey", err)
	}
	if err := storage.ValidateEntry(&storage.Entry{Key: "ok"}); err != nil {
		t.Errorf("ValidateEntry(ok) = %v", err)
	}
}
