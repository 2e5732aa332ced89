package kv

import (
	"bytes"
	"context"
	"errors"
	"sync"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// Bounds of the decoded-data cache of one mount: entries, and the size of
// a stored version above which it is never cached.
const (
	maxCachedVersions   = 1024
	maxCachedVersionLen = 16 << 10
)

// dataCache remembers decoded secret versions together with the stored
// bytes they were decoded from, like metaCache: a read still fetches the
// stored bytes and reuses the decoded value only when they are equal, so
// it never returns data that differs from storage. Readers get deep
// copies. It is emptied by Cleanup, which the core calls when it seals or
// unmounts, and it lives no longer than the mount's backend.
type dataCache struct {
	mu sync.RWMutex
	m  map[string]cachedData
}

type cachedData struct {
	raw  []byte
	data map[string]any
}

func newDataCache() *dataCache { return &dataCache{m: map[string]cachedData{}} }

// readVersion returns a copy of version n's data; its metadata must say
// it exists.
func (c *dataCache) readVersion(ctx context.Context, s storage.Backend, path string, n uint64) (map[string]any, error) {
	key := versionKey(path, n)
	e, err := s.Get(ctx, key)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, errors.New("kv: version data missing")
		}
		return nil, storageError("read version", err)
	}
	c.mu.RLock()
	hit, ok := c.m[key]
	c.mu.RUnlock()
	if ok && bytes.Equal(hit.raw, e.Value) {
		return copyObject(hit.data), nil
	}
	data, err := decodeObject(e.Value)
	if err != nil || len(e.Value) > maxCachedVersionLen {
		return data, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedVersions {
		clear(c.m)
	}
	c.m[key] = cachedData{raw: e.Value, data: copyObject(data)}
	return data, nil
}

// clear empties the cache.
func (c *dataCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}

// copyObject deep-copies a decoded JSON object. Strings, json.Number,
// booleans and nil are immutable and shared.
func copyObject(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return copyObject(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = copyValue(e)
		}
		return out
	default:
		return v
	}
}

// Cleanup drops the mount's decoded caches; the core calls it on seal and
// unmount.
func (b *versioned) Cleanup(context.Context) {
	b.data.clear()
	b.meta.clear()
}

var _ logical.Cleaner = (*versioned)(nil)
