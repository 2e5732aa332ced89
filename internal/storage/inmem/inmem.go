// Package inmem is an in-memory storage.Backend, kept sorted so that List
// seeks instead of scanning; dev mode and tests use it.
package inmem

import (
	"context"
	"strings"
	"sync"

	"github.com/cofferdev/coffer/internal/storage"
)

// Backend is an in-memory storage.Backend. Its zero value is an empty
// backend. It is safe for concurrent use: reads share a lock, writes and
// transactions hold it exclusively, so readers never see part of one.
type Backend struct {
	mu sync.RWMutex
	// data maps each key to its value. Stored values are private copies that
	// are never modified, only replaced.
	data map[string][]byte
	// keys holds the keys of data in order, for List.
	keys index
}

var _ storage.Backend = (*Backend)(nil)

// New returns an empty Backend.
func New() *Backend {
	return &Backend{data: make(map[string][]byte)}
}

// Get implements storage.Backend. The returned Value is the caller's own copy.
func (b *Backend) Get(ctx context.Context, key string) (*storage.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := storage.ValidateKey(key); err != nil {
		return nil, err
	}
	b.mu.RLock()
	v, ok := b.data[key]
	b.mu.RUnlock()
	if !ok {
		return nil, storage.ErrNotFound
	}
	return &storage.Entry{Key: key, Value: clone(v)}, nil
}

// Put implements storage.Backend.
func (b *Backend) Put(ctx context.Context, entry *storage.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.ValidateEntry(entry); err != nil {
		return err
	}
	v := clone(entry.Value)
	b.mu.Lock()
	b.put(entry.Key, v)
	b.mu.Unlock()
	return nil
}

// Delete implements storage.Backend.
func (b *Backend) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	b.mu.Lock()
	b.delete(key)
	b.mu.Unlock()
	return nil
}

// List implements storage.Backend. It costs one seek per child reported:
// the keys inside a sub-folder are skipped, not visited.
func (b *Backend) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := storage.ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	var children []string
	p := b.keys.seek(prefix)
	for {
		k, ok := b.keys.at(p)
		if !ok || !strings.HasPrefix(k, prefix) {
			return children, nil
		}
		child, ok := storage.Child(prefix, k)
		switch {
		case !ok: // k == prefix: a key, not a child of itself
			p = b.keys.next(p)
		case strings.HasSuffix(child, "/"):
			children = append(children, child)
			p = b.keys.seek(folderEnd(prefix + child))
		default:
			children = append(children, child)
			p = b.keys.next(p)
		}
	}
}

// Transaction implements storage.Backend. It validates every operation
// before applying any, then applies them in order under one lock.
func (b *Backend) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.ValidateOps(ops); err != nil {
		return err
	}
	values := make([][]byte, len(ops))
	for i, op := range ops {
		if op.Kind == storage.OpPut {
			values[i] = clone(op.Entry.Value)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, op := range ops {
		if op.Kind == storage.OpPut {
			b.put(op.Entry.Key, values[i])
		} else {
			b.delete(op.Entry.Key)
		}
	}
	return nil
}

// put stores v under key. The caller holds mu for writing.
func (b *Backend) put(key string, v []byte) {
	if b.data == nil {
		b.data = make(map[string][]byte)
	}
	if _, ok := b.data[key]; !ok {
		b.keys.insert(key)
	}
	b.data[key] = v
}

// delete removes key. The caller holds mu for writing.
func (b *Backend) delete(key string) {
	if _, ok := b.data[key]; ok {
		delete(b.data, key)
		b.keys.remove(key)
	}
}

// folderEnd returns the smallest string that sorts after every key starting
// with folder, which ends in "/": the same string with that "/" bumped to "0".
func folderEnd(folder string) string {
	return folder[:len(folder)-1] + "0"
}

// clone returns a copy of v that is never nil, so an empty value reads back
// as an empty, non-nil slice.
func clone(v []byte) []byte {
	return append([]byte{}, v...)
}
