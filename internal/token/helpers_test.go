package token

import (
	"context"
	"crypto/rand"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// memBackend is a map-backed storage.Backend for tests. After resetLog it
// records the keys passed to Get and the prefixes passed to List.
type memBackend struct {
	mu        sync.Mutex
	data      map[string][]byte
	recording bool
	gets      []string
	lists     []string
}

var _ storage.Backend = (*memBackend)(nil)

func newMemBackend() *memBackend { return &memBackend{data: map[string][]byte{}} }

func (m *memBackend) Get(_ context.Context, key string) (*storage.Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recording {
		m.gets = append(m.gets, key)
	}
	v, ok := m.data[key]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return &storage.Entry{Key: key, Value: slices.Clone(v)}, nil
}

func (m *memBackend) Put(_ context.Context, e *storage.Entry) error {
	if err := storage.ValidateEntry(e); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[e.Key] = slices.Clone(e.Value)
	return nil
}

func (m *memBackend) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.data, key)
	return nil
}

func (m *memBackend) List(_ context.Context, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recording {
		m.lists = append(m.lists, prefix)
	}
	seen := map[string]bool{}
	var out []string
	for k := range m.data {
		if c, ok := storage.Child(prefix, k); ok && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (m *memBackend) Transaction(_ context.Context, ops []storage.TxnOp) error {
	if err := storage.ValidateOps(ops); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, op := range ops {
		switch op.Kind {
		case storage.OpPut:
			m.data[op.Entry.Key] = slices.Clone(op.Entry.Value)
		case storage.OpDelete:
			delete(m.data, op.Entry.Key)
		}
	}
	return nil
}

// keys returns the stored keys with prefix, sorted.
func (m *memBackend) keys(prefix string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.data {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// resetLog forgets the recorded Gets and Lists and starts recording.
func (m *memBackend) resetLog() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets, m.lists = nil, nil
	m.recording = true
}

func (m *memBackend) log() (gets, lists []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.gets), slices.Clone(m.lists)
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// randomKey returns a fresh 32-byte key.
func randomKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// testKey is a fixed 32-byte HMAC key.
func testKey() []byte { return []byte("0123456789abcdef0123456789abcdef") }

type testStore struct {
	*Store
	mem     *memBackend
	clock   *fakeClock
	mu      sync.Mutex
	revoked []string // accessors passed to OnRevoke, in order
}

func newTestStore(t testing.TB) *testStore {
	t.Helper()
	ts := &testStore{mem: newMemBackend(), clock: newFakeClock()}
	ts.Store = NewStore(ts.mem, testKey(), Options{
		Now:      ts.clock.Now,
		BatchKey: randomKey(t),
		OnRevoke: func(_ context.Context, e *Entry) error {
			ts.mu.Lock()
			defer ts.mu.Unlock()
			ts.revoked = append(ts.revoked, e.Accessor)
			return nil
		},
	})
	return ts
}

func (ts *testStore) revokedAccessors() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.revoked)
}

// mustCreate creates a token or fails the test.
func mustCreate(t testing.TB, s *Store, p CreateParams) (string, *Entry) {
	t.Helper()
	raw, e, err := s.Create(context.Background(), p)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return raw, e
}

// rootParams are the parameters of a root token.
func rootParams() CreateParams {
	return CreateParams{Policies: []string{"root"}, NoExpiry: true, Path: "auth/token/root", DisplayName: "root"}
}

func storageEntry(key, value string) *storage.Entry {
	return &storage.Entry{Key: key, Value: []byte(value)}
}
