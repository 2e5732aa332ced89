package barrier

import (
	"hash/maphash"
	"sync"
)

// Decrypted-entry cache bounds: at most maxCachedValues entries and
// maxCachedBytes of plaintext, values over maxCachedValueLen never cached.
const (
	maxCachedValues   = 1 << 14
	maxCachedBytes    = 32 << 20
	maxCachedValueLen = 64 << 10
	// genStripes is how many write generations the cache keeps; keys hash
	// onto them, so a write only blocks caching of keys on its stripe.
	genStripes = 256
)

// valueCache maps logical keys to decrypted values, so a Get of a hot key
// skips the physical read, the key-name encryption and the AES-GCM open.
//
// A write (Put, Delete, Transaction) brackets its physical write with
// begin and end. From begin to end the stripes of its keys are pending:
// Gets of keys on them bypass the cache and read the physical backend, so
// readers see exactly what its atomicity gives them, never a mix of cached
// old values and physical new ones. begin and end drop the keys and bump
// their stripes' generations; a Get that missed may only insert the value
// it read when its stripe is not pending and its generation is unchanged
// since the Get started, so a read racing a write can never leave the old
// value cached. Rotate, ReloadKeyring and
// Seal clear the cache; Seal also zeroes the cached plaintext. Cached
// values are never handed out, only copies.
//
// The cache trusts that every write to the physical keys goes through this
// barrier. A node whose physical storage changes underneath (a raft
// follower applying the leader's log) must call Invalidate for each key it
// applied (or ClearCache), or disable the cache with Options.CacheEntries < 0.
type valueCache struct {
	maxEntries int
	seed       maphash.Seed

	mu      sync.RWMutex
	m       map[string][]byte
	bytes   int
	gens    [genStripes]uint64
	pending [genStripes]int
}

func newValueCache(maxEntries int) *valueCache {
	if maxEntries == 0 {
		maxEntries = maxCachedValues
	}
	return &valueCache{maxEntries: maxEntries, seed: maphash.MakeSeed(), m: map[string][]byte{}}
}

func (c *valueCache) stripe(key string) int {
	return int(maphash.String(c.seed, key) % genStripes)
}

// get returns a copy of the cached value of key (ok false on a miss) and
// the generation to hand to add after reading storage.
func (c *valueCache) get(key string) (value []byte, ok bool, gen uint64) {
	if c.maxEntries < 0 {
		return nil, false, 0
	}
	s := c.stripe(key)
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.pending[s] > 0 {
		return nil, false, c.gens[s]
	}
	if v, hit := c.m[key]; hit {
		return append([]byte(nil), v...), true, 0
	}
	return nil, false, c.gens[s]
}

// add caches a copy of value under key unless a write to the key's stripe
// happened since gen was read, the value is too large or the cache is
// disabled. A full cache drops entries until the new one fits.
func (c *valueCache) add(key string, value []byte, gen uint64) {
	if c.maxEntries < 0 || len(value) > maxCachedValueLen {
		return
	}
	s := c.stripe(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[s] != gen || c.pending[s] > 0 {
		return
	}
	if old, ok := c.m[key]; ok {
		c.bytes -= len(old)
	}
	for k, v := range c.m {
		if len(c.m) < c.maxEntries && c.bytes+len(value) <= maxCachedBytes {
			break
		}
		c.bytes -= len(v)
		clear(v)
		delete(c.m, k)
	}
	c.m[key] = append([]byte(nil), value...)
	c.bytes += len(value)
}

// begin marks keys as being written: until end, their stripes bypass the
// cache. Every begin must be followed by an end with the same keys.
func (c *valueCache) begin(keys ...string) { c.mark(1, keys) }

// end ends a write begun with begin.
func (c *valueCache) end(keys ...string) { c.mark(-1, keys) }

// mark adjusts the pending counts of keys' stripes by delta, drops the
// keys and bumps their stripes' generations.
func (c *valueCache) mark(delta int, keys []string) {
	if c.maxEntries < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		s := c.stripe(k)
		c.pending[s] += delta
		c.gens[s]++
		if v, ok := c.m[k]; ok {
			c.bytes -= len(v)
			clear(v)
			delete(c.m, k)
		}
	}
}

// invalidate drops keys and bumps their stripes' generations, so a Get
// that read storage before the call cannot cache what it read.
func (c *valueCache) invalidate(keys ...string) { c.mark(0, keys) }

// reset zeroes and drops every entry and bumps every generation, so no
// read in flight can insert what it read before the reset.
func (c *valueCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.m {
		clear(v)
		delete(c.m, k)
	}
	c.bytes = 0
	for i := range c.gens {
		c.gens[i]++
	}
}

// stats returns the number of entries and of cached plaintext bytes.
func (c *valueCache) stats() (entries, bytes int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m), c.bytes
}
