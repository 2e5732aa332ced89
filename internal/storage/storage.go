// Package storage defines the physical storage interface every Coffer backend
// implements, and the sentinel errors they share.
//
// A Backend stores opaque byte values under slash-separated keys. It never
// sees plaintext: the barrier encrypts every value before it reaches a
// backend. Backends are safe for concurrent use by multiple goroutines.
package storage

import (
	"context"
	"errors"
	"strings"
)

// Entry is one key and its value. Backends must not retain Value after Put
// returns, and callers must not modify a Value returned by Get.
type Entry struct {
	Key   string
	Value []byte
}

// OpKind is the kind of one operation in a transaction.
type OpKind int

const (
	// OpPut writes Entry.
	OpPut OpKind = iota + 1
	// OpDelete removes Entry.Key; deleting an absent key is not an error.
	OpDelete
)

// TxnOp is one operation of a Transaction.
type TxnOp struct {
	Kind  OpKind
	Entry Entry
}

// Backend is the physical storage interface.
//
// Contracts every implementation honours (checked by storagetest.Run):
//   - Get of an absent key returns ErrNotFound.
//   - Put overwrites; Delete of an absent key succeeds.
//   - List(prefix) returns the sorted immediate children of prefix: a key
//     "a/b/c" listed under "a/" appears as "b/"; under "a/b/" as "c". Each
//     child appears once. An empty result is a nil slice and no error.
//   - Transaction applies all operations or none; concurrent readers never
//     observe a partial transaction.
//   - Keys are non-empty, do not start with "/" and contain no "..":
//     ValidateKey reports violations with ErrInvalidKey.
type Backend interface {
	Get(ctx context.Context, key string) (*Entry, error)
	Put(ctx context.Context, entry *Entry) error
	Delete(ctx context.Context, key string) error
	List(ctx context.Context, prefix string) ([]string, error)
	Transaction(ctx context.Context, ops []TxnOp) error
}

// Closer is implemented by backends that hold resources (files, connections).
type Closer interface {
	Close() error
}

var (
	// ErrNotFound is returned by Get when the key does not exist.
	ErrNotFound = errors.New("storage: key not found")
	// ErrInvalidKey is returned for keys that break the key rules.
	ErrInvalidKey = errors.New("storage: invalid key")
	// ErrTooLarge is returned when a value exceeds a backend's limit.
	ErrTooLarge = errors.New("storage: value too large")
	// ErrReadOnly is returned by writes on a node that is not the active
	// node of a cluster: the request that made them must be handled by the
	// active node instead.
	ErrReadOnly = errors.New("storage: writes go to the active node")
)

// ValidateKey checks the key rules shared by every backend.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return ErrInvalidKey
	case strings.HasPrefix(key, "/"):
		return ErrInvalidKey
	case strings.Contains(key, ".."):
		return ErrInvalidKey
	}
	return nil
}

// Child returns the immediate child of prefix that key belongs to, as List
// reports it ("b/" for key "a/b/c" under "a/"), and false if key is not under
// prefix.
func Child(prefix, key string) (string, bool) {
	if !strings.HasPrefix(key, prefix) || len(key) == len(prefix) {
		return "", false
	}
	rest := key[len(prefix):]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i+1], true
	}
	return rest, true
}
