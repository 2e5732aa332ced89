package transit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// cacheConfigKey stores the cache-config setting.
const cacheConfigKey = "config/cache"

// minCacheSize is Vault's smallest non-zero cache size.
const minCacheSize = 10

func (b *Backend) cacheConfigPath() *logical.Path {
	return &logical.Path{
		Pattern: `cache-config`,
		Fields:  map[string]*logical.Field{"size": {Type: logical.TypeInt}},
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   b.handleReadCache,
			logical.UpdateOperation: b.handleWriteCache,
		},
		Help: "Accept and report the key cache size. Coffer caches every key it has loaded; the size is recorded for compatibility.",
	}
}

func (b *Backend) handleReadCache(ctx context.Context, _ *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	e, err := b.store.s.Get(ctx, cacheConfigKey)
	size := 0
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("transit: read cache config: %w", err)
	default:
		var c struct {
			Size int `json:"size"`
		}
		if json.Unmarshal(e.Value, &c) != nil {
			return nil, ErrCorruptEntry
		}
		size = c.Size
	}
	return logical.DataResponse(map[string]any{"size": size}), nil
}

func (b *Backend) handleWriteCache(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	size := d.Int("size")
	if size < 0 || (size != 0 && size < minCacheSize) {
		return nil, logical.InvalidRequest("size must be 0 or a value greater or equal to %d", minCacheSize)
	}
	buf, _ := json.Marshal(map[string]int{"size": size})
	if err := b.store.s.Put(ctx, &storage.Entry{Key: cacheConfigKey, Value: buf}); err != nil {
		return nil, fmt.Errorf("transit: write cache config: %w", err)
	}
	resp := logical.DataResponse(map[string]any{"size": size})
	resp.Warn("cache configurations will be applied when this backend is restarted")
	return resp, nil
}
