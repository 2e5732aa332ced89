package storagetest

import (
	"context"
	"sync"

	"github.com/cofferdev/coffer/internal/storage"
)

// WriteLog wraps a backend and records the key of every write, as the raft
// backend reports to a standby the keys each replicated write touched.
// Tests of cache invalidation replay Take's keys into a second instance.
type WriteLog struct {
	storage.Backend
	mu   sync.Mutex
	keys []string
}

func (w *WriteLog) note(keys ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.keys = append(w.keys, keys...)
}

// Take returns the recorded keys, in write order, and forgets them.
func (w *WriteLog) Take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := w.keys
	w.keys = nil
	return k
}

// Put implements storage.Backend.
func (w *WriteLog) Put(ctx context.Context, e *storage.Entry) error {
	w.note(e.Key)
	return w.Backend.Put(ctx, e)
}

// Delete implements storage.Backend.
func (w *WriteLog) Delete(ctx context.Context, key string) error {
	w.note(key)
	return w.Backend.Delete(ctx, key)
}

// Transaction implements storage.Backend.
func (w *WriteLog) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	for _, op := range ops {
		w.note(op.Entry.Key)
	}
	return w.Backend.Transaction(ctx, ops)
}
