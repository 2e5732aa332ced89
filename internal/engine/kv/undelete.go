package kv

import (
	"context"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// undeletePath is undelete/<path>: restore soft-deleted versions.
func (b *versioned) undeletePath() *logical.Path {
	return &logical.Path{
		Pattern: `undelete/(?P<path>(?s:.+))`,
		Fields: map[string]*logical.Field{
			"versions": {Type: logical.TypeStringSlice, Description: "Versions to restore."},
		},
		Operations: map[logical.Operation]logical.Handler{
			logical.UpdateOperation: b.undeleteVersions,
		},
		Help: "Restore soft-deleted versions of a secret.",
	}
}

// undeleteVersions clears the deletion time of each listed version that
// exists and is not destroyed. As in Vault, a delete_version_after in force
// starts again from now.
func (b *versioned) undeleteVersions(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key := d.String("path")
	if err := validatePath(key); err != nil {
		return nil, err
	}
	versions, err := parseVersions(d)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(ctx, req.Storage)
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
		vm := meta.Versions[n]
		if vm == nil || vm.Destroyed {
			continue
		}
		vm.DeletionTime = time.Time{}
		if t, ok := deletionTime(now, cfg.DeleteVersionAfter, meta.DeleteVersionAfter); ok {
			vm.DeletionTime = t
		}
	}
	if err := saveMetadata(ctx, req.Storage, key, meta); err != nil {
		return nil, err
	}
	return noContent(), nil
}
