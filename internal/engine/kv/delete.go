package kv

import (
	"context"

	"github.com/cofferdev/coffer/internal/logical"
)

// deletePath is delete/<path>: soft-delete the given versions.
func (b *versioned) deletePath() *logical.Path {
	return &logical.Path{
		Pattern: `delete/(?P<path>(?s:.+))`,
		Fields: map[string]*logical.Field{
			"versions": {Type: logical.TypeStringSlice, Description: "Versions to mark deleted."},
		},
		Operations: map[logical.Operation]logical.Handler{
			logical.UpdateOperation: b.deleteVersions,
		},
		Help: "Mark versions of a secret deleted; undelete reverses it.",
	}
}

// deleteVersions sets the deletion time of each listed version that exists
// and is neither destroyed nor already deleted. Unknown versions are skipped.
func (b *versioned) deleteVersions(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key := d.String("path")
	if err := validatePath(key); err != nil {
		return nil, err
	}
	versions, err := parseVersions(d)
	if err != nil {
		return nil, err
	}
	l := b.locks.forKey(key)
	l.Lock()
	defer l.Unlock()

	meta, err := loadMetadata(ctx, req.Storage, key)
	if err != nil {
		return nil, err
	}
	if meta == nil {
		return noContent(), nil
	}
	now := b.clock()
	for _, n := range versions {
		if vm := meta.Versions[n]; vm != nil && !vm.gone(now) {
			vm.DeletionTime = now
		}
	}
	if err := saveMetadata(ctx, req.Storage, key, meta); err != nil {
		return nil, err
	}
	return noContent(), nil
}
