package kv

import (
	"context"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
)

var _ logical.Invalidator = (*versioned)(nil)

// Invalidate drops what the mount caches for key, a key of the mount's
// storage view written or deleted by another node. The decoded caches
// check every hit against the stored bytes, so they never serve a stale
// value; Invalidate keeps them from holding on to data that storage no
// longer has (a destroyed version's secret data, deleted metadata). A key
// that is neither metadata nor version data ("config" is never cached)
// drops nothing, except one the layout does not know, which empties both
// caches.
func (b *versioned) Invalidate(_ context.Context, key string) {
	switch {
	case strings.HasPrefix(key, metadataPrefix):
		b.meta.drop(key)
	case strings.HasPrefix(key, versionsPrefix):
		b.data.drop(key)
	case key == configKey:
	default:
		b.meta.clear()
		b.data.clear()
	}
}

// drop forgets key.
func (c *metaCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// drop forgets key.
func (c *dataCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}
