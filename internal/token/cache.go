package token

import (
	"context"
	"strings"
	"sync"

	"github.com/cofferdev/coffer/internal/storage"
)

// defaultCacheSize bounds the entry cache when Options.CacheSize is zero.
const defaultCacheSize = 4096

// entryCache holds decoded token entries by hash, so a lookup of a hot
// token skips the storage read, the barrier decrypt and the JSON decode.
//
// Correctness rests on two rules. Every write of an id/ key goes through
// invalidatingView, which drops the key after the write returns, so once a
// revocation, renewal or use has returned no lookup sees the old entry.
// And a lookup that missed may only insert what it read if no id/ key was
// written meanwhile (gen is unchanged), so a read that raced a write can
// never put a stale entry back. Writes made elsewhere (the active node of a
// cluster, seen from a standby) reach the cache through Store.Invalidate,
// which drops entries the same way. Expiry needs no invalidation: lookups check
// ExpireTime on every call, cached or not. Cached entries are never handed
// out; callers get clones.
type entryCache struct {
	mu  sync.RWMutex
	gen uint64
	max int
	m   map[string]*Entry
}

func newEntryCache(size int) *entryCache {
	if size == 0 {
		size = defaultCacheSize
	}
	return &entryCache{max: size, m: make(map[string]*Entry)}
}

// get returns a clone of the cached entry for hash (nil on a miss) and the
// generation to pass to add after reading storage.
func (c *entryCache) get(hash string) (*Entry, uint64) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e := c.m[hash]; e != nil {
		return e.clone(), c.gen
	}
	return nil, c.gen
}

// add caches a clone of e under hash unless an id/ key was written since
// gen was read, or the cache is disabled. A full cache drops one entry.
func (c *entryCache) add(hash string, e *Entry, gen uint64) {
	if c.max < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[hash] = e.clone()
}

// invalidate drops the entry stored under key when key is an id/ key.
func (c *entryCache) invalidate(key string) {
	hash, ok := strings.CutPrefix(key, idPrefix)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, hash)
}

// reset drops every entry and bumps gen, so no lookup in flight can insert
// what it read before the reset.
func (c *entryCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}

// len returns the number of cached entries.
func (c *entryCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// invalidatingView is the Store's view: every write drops the entries it
// touched from the cache once the write has returned, whether it succeeded
// or not (a failed write may still have been applied).
type invalidatingView struct {
	storage.Backend
	cache *entryCache
}

func (v invalidatingView) Put(ctx context.Context, e *storage.Entry) error {
	defer v.cache.invalidate(e.Key)
	return v.Backend.Put(ctx, e)
}

func (v invalidatingView) Delete(ctx context.Context, key string) error {
	defer v.cache.invalidate(key)
	return v.Backend.Delete(ctx, key)
}

func (v invalidatingView) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	defer func() {
		for _, op := range ops {
			v.cache.invalidate(op.Entry.Key)
		}
	}()
	return v.Backend.Transaction(ctx, ops)
}
