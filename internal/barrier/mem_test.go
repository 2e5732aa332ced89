package barrier

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/cofferdev/coffer/internal/storage"
)

// memBackend is a map-based storage.Backend for these tests. failPut, when
// set, fails every Put and Transaction.
type memBackend struct {
	mu      sync.Mutex
	m       map[string][]byte
	failPut error
}

var _ storage.Backend = (*memBackend)(nil)

func newMem() *memBackend { return &memBackend{m: map[string][]byte{}} }

func (m *memBackend) Get(_ context.Context, key string) (*storage.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[key]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return &storage.Entry{Key: key, Value: slices.Clone(v)}, nil
}

func (m *memBackend) Put(_ context.Context, e *storage.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPut != nil {
		return m.failPut
	}
	if err := storage.ValidateKey(e.Key); err != nil {
		return err
	}
	m.m[e.Key] = slices.Clone(e.Value)
	return nil
}

func (m *memBackend) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
	return nil
}

func (m *memBackend) List(_ context.Context, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.m {
		if c, ok := storage.Child(prefix, k); ok && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (m *memBackend) Transaction(_ context.Context, ops []storage.TxnOp) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPut != nil {
		return m.failPut
	}
	for _, op := range ops {
		switch op.Kind {
		case storage.OpPut:
			m.m[op.Entry.Key] = slices.Clone(op.Entry.Value)
		case storage.OpDelete:
			delete(m.m, op.Entry.Key)
		default:
			return errors.New("mem: bad op")
		}
	}
	return nil
}

// raw returns the stored (encrypted) bytes at key.
func (m *memBackend) raw(key string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.m[key])
}

func (m *memBackend) setRaw(key string, v []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[key] = slices.Clone(v)
}

func (m *memBackend) setFailPut(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failPut = err
}

// snapshot returns a copy of every stored key and value.
func (m *memBackend) snapshot() map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string][]byte, len(m.m))
	for k, v := range m.m {
		out[k] = slices.Clone(v)
	}
	return out
}

func (m *memBackend) del(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
}
