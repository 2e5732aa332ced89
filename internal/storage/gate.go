package storage

import (
	"context"
	"sync"
)

// Gate is a Backend that passes everything to an inner Backend until its
// writes are closed: Close waits for the writes under way and makes every
// later Put, Delete and Transaction fail with the error it was given, while
// Get and List go on. The core gates a mount's storage this way to copy it
// knowing nothing changes behind the copy.
type Gate struct {
	b      Backend
	mu     sync.RWMutex
	closed error
}

var _ Backend = (*Gate)(nil)

// NewGate returns an open Gate over b.
func NewGate(b Backend) *Gate { return &Gate{b: b} }

// Close refuses writes from now on with err (which must not be nil), once
// the writes under way have finished.
func (g *Gate) Close(err error) {
	g.mu.Lock()
	g.closed = err
	g.mu.Unlock()
}

// Open lets writes through again.
func (g *Gate) Open() { g.Close(nil) }

func (g *Gate) Get(ctx context.Context, key string) (*Entry, error) { return g.b.Get(ctx, key) }

func (g *Gate) List(ctx context.Context, prefix string) ([]string, error) {
	return g.b.List(ctx, prefix)
}

func (g *Gate) Put(ctx context.Context, entry *Entry) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed != nil {
		return g.closed
	}
	return g.b.Put(ctx, entry)
}

func (g *Gate) Delete(ctx context.Context, key string) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed != nil {
		return g.closed
	}
	return g.b.Delete(ctx, key)
}

func (g *Gate) Transaction(ctx context.Context, ops []TxnOp) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed != nil {
		return g.closed
	}
	return g.b.Transaction(ctx, ops)
}
