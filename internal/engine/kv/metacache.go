package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/cofferdev/coffer/internal/storage"
)

// maxCachedMetadata bounds the decoded-metadata cache of one mount.
const maxCachedMetadata = 1024

// metaCache remembers the decoded metadata of recently read keys together
// with the stored bytes it was decoded from. A read still fetches the
// stored bytes (from the barrier's own cache when hot) and reuses the
// decoded value only when those bytes are equal, so the cache can never
// return metadata that differs from storage and needs no invalidation for
// correctness (Invalidate only frees entries storage no longer has).
// Cached metadata is shared and must not be modified: only read paths use
// it. It holds metadata only, never secret data.
type metaCache struct {
	mu sync.RWMutex
	m  map[string]cachedMeta
}

type cachedMeta struct {
	raw  []byte
	meta *keyMetadata
}

func newMetaCache() *metaCache { return &metaCache{m: map[string]cachedMeta{}} }

// readMetadata returns the key's metadata for reading only, or nil if the
// key has none.
func (c *metaCache) readMetadata(ctx context.Context, s storage.Backend, path string) (*keyMetadata, error) {
	key := metadataKey(path)
	e, err := s.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, storageError("read", err)
	}
	c.mu.RLock()
	hit, ok := c.m[key]
	c.mu.RUnlock()
	if ok && bytes.Equal(hit.raw, e.Value) {
		return hit.meta, nil
	}
	meta := &keyMetadata{}
	if json.Unmarshal(e.Value, meta) != nil {
		return nil, ErrCorruptEntry
	}
	if meta.Versions == nil {
		meta.Versions = map[uint64]*versionMeta{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedMetadata {
		clear(c.m)
	}
	c.m[key] = cachedMeta{raw: e.Value, meta: meta}
	return meta, nil
}

// clear empties the cache.
func (c *metaCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}
