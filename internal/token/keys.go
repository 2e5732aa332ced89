package token

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// Storage key prefixes; the layout is documented in the package comment.
const (
	idPrefix       = "id/"
	accessorPrefix = "accessor/"
	parentPrefix   = "parent/"
	expiryPrefix   = "expiry/"
)

func idKey(hash string) string          { return idPrefix + hash }
func accessorKey(acc string) string     { return accessorPrefix + acc }
func childrenPrefix(hash string) string { return parentPrefix + hash + "/" }
func childKey(parent, child string) string {
	return childrenPrefix(parent) + child
}

// expiryBucket names the expiry index folder of t. The zero-padded width
// makes lexical order equal time order for every time after 1970.
func expiryBucket(t time.Time) string {
	return fmt.Sprintf("%020d", t.UnixNano())
}

func expiryKey(t time.Time, hash string) string {
	return expiryPrefix + expiryBucket(t) + "/" + hash
}

// parseExpiryBucket turns a List child of expiry/ ("<nanos>/") into a time.
func parseExpiryBucket(child string) (time.Time, bool) {
	n, err := strconv.ParseInt(strings.TrimSuffix(child, "/"), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// indexOps returns the puts of every key that names e.
func indexOps(e *Entry, value []byte) []storage.TxnOp {
	ops := []storage.TxnOp{
		put(idKey(e.Hash), value),
		put(accessorKey(e.Accessor), []byte(e.Hash)),
	}
	if e.Parent != "" {
		ops = append(ops, put(childKey(e.Parent, e.Hash), []byte(e.Hash)))
	}
	if e.expires() {
		ops = append(ops, put(expiryKey(e.ExpireTime, e.Hash), []byte(e.Hash)))
	}
	return ops
}

// deleteOps returns the deletes of every key that names e.
func deleteOps(e *Entry) []storage.TxnOp {
	ops := []storage.TxnOp{del(idKey(e.Hash)), del(accessorKey(e.Accessor))}
	if e.Parent != "" {
		ops = append(ops, del(childKey(e.Parent, e.Hash)))
	}
	if e.expires() {
		ops = append(ops, del(expiryKey(e.ExpireTime, e.Hash)))
	}
	return ops
}

func put(key string, value []byte) storage.TxnOp {
	return storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: key, Value: value}}
}

func del(key string) storage.TxnOp {
	return storage.TxnOp{Kind: storage.OpDelete, Entry: storage.Entry{Key: key}}
}

// keyLocks hands out one mutex per token hash, created on demand and dropped
// when its last holder unlocks.
type keyLocks struct {
	mu    sync.Mutex
	locks map[string]*refMutex
}

type refMutex struct {
	sync.Mutex
	refs int
}

// lock locks the mutex of key and returns its unlock function.
func (k *keyLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[string]*refMutex)
	}
	m := k.locks[key]
	if m == nil {
		m = &refMutex{}
		k.locks[key] = m
	}
	m.refs++
	k.mu.Unlock()

	m.Lock()
	return func() {
		m.Unlock()
		k.mu.Lock()
		m.refs--
		if m.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
