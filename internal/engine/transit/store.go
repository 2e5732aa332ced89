package transit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// policyPrefix holds one storage entry per key.
const policyPrefix = "policy/"

// lockStripes bounds the per-name write locks.
const lockStripes = 64

// errNoChange, returned by an update function, ends the update without
// writing anything; update then returns the current key and no error.
var errNoChange = errors.New("transit: no change")

// keyStore caches decoded keys as immutable snapshots over the mount's
// storage. Reads are lock-free after the first load; writes to one name
// are serialised by a striped lock and published only once persisted.
type keyStore struct {
	s     storage.Backend
	mu    sync.RWMutex
	cache map[string]*policy
	locks [lockStripes]sync.Mutex
}

func newKeyStore(s storage.Backend) *keyStore {
	return &keyStore{s: s, cache: map[string]*policy{}}
}

func (ks *keyStore) lockFor(name string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(name))
	return &ks.locks[h.Sum32()%lockStripes]
}

func (ks *keyStore) cached(name string) *policy {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.cache[name]
}

func (ks *keyStore) publish(name string, p *policy) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if p == nil {
		delete(ks.cache, name)
		return
	}
	ks.cache[name] = p
}

// get returns the current snapshot of key name, or nil when it does not
// exist. The result must not be modified.
func (ks *keyStore) get(ctx context.Context, name string) (*policy, error) {
	if p := ks.cached(name); p != nil {
		return p, nil
	}
	l := ks.lockFor(name)
	l.Lock()
	defer l.Unlock()
	return ks.load(ctx, name)
}

// load reads name from storage (or the cache) with its stripe lock held,
// so a concurrent writer cannot publish between the read and the fill.
func (ks *keyStore) load(ctx context.Context, name string) (*policy, error) {
	if p := ks.cached(name); p != nil {
		return p, nil
	}
	e, err := ks.s.Get(ctx, policyPrefix+name)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("transit: read key %q: %w", name, err)
	}
	p, err := decodePolicy(e.Value)
	if err != nil {
		return nil, err
	}
	ks.publish(name, p)
	return p, nil
}

// decodePolicy decodes and prepares a stored key.
func decodePolicy(buf []byte) (*policy, error) {
	var p policy
	if json.Unmarshal(buf, &p) != nil || p.Name == "" || p.Keys == nil {
		return nil, ErrCorruptEntry
	}
	if _, err := parseKeyType(string(p.Type)); err != nil {
		return nil, ErrCorruptEntry
	}
	for _, k := range p.Keys {
		if k == nil || k.prepare(p.Type) != nil {
			return nil, ErrCorruptEntry
		}
	}
	return &p, nil
}

// update runs fn on a private copy of key name (nil when it does not
// exist) and persists what fn returns: a policy to write, or nil to delete
// the key. Nothing is stored or published when fn fails or returns
// errNoChange.
func (ks *keyStore) update(ctx context.Context, name string, fn func(cur *policy) (*policy, error)) (*policy, error) {
	l := ks.lockFor(name)
	l.Lock()
	defer l.Unlock()
	cur, err := ks.load(ctx, name)
	if err != nil {
		return nil, err
	}
	snapshot := cur
	if cur != nil {
		cur = cur.clone()
	}
	next, err := fn(cur)
	if errors.Is(err, errNoChange) {
		return snapshot, nil
	}
	if err != nil {
		return nil, err
	}
	if next == nil {
		if err := ks.s.Delete(ctx, policyPrefix+name); err != nil {
			return nil, fmt.Errorf("transit: delete key %q: %w", name, err)
		}
		ks.publish(name, nil)
		return nil, nil
	}
	buf, err := json.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("transit: encode key %q: %w", name, err)
	}
	if err := ks.s.Put(ctx, &storage.Entry{Key: policyPrefix + name, Value: buf}); err != nil {
		if errors.Is(err, storage.ErrTooLarge) {
			return nil, &logical.Error{Kind: logical.KindTooLarge, Msg: "key is too large to store; trim old versions", Err: err}
		}
		return nil, fmt.Errorf("transit: write key %q: %w", name, err)
	}
	ks.publish(name, next)
	return next, nil
}

// list returns the names of every key.
func (ks *keyStore) list(ctx context.Context) ([]string, error) {
	names, err := ks.s.List(ctx, policyPrefix)
	if err != nil {
		return nil, fmt.Errorf("transit: list keys: %w", err)
	}
	return names, nil
}

// mustGet returns key name or Vault's 400 for a missing key.
func (ks *keyStore) mustGet(ctx context.Context, name string) (*policy, error) {
	p, err := ks.get(ctx, name)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, logical.InvalidRequest("encryption key not found")
	}
	return p, nil
}
