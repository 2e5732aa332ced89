package kv

import (
	"context"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// destroyPath is destroy/<path>: permanently erase versions' data.
func (b *versioned) destroyPath() *logical.Path {
	return &logical.Path{
		Pattern: `destroy/(?P<path>(?s:.+))`,
		Fields: map[string]*logical.Field{
			"versions": {Type: logical.TypeStringSlice, Description: "Versions whose data to erase."},
		},
		Operations: map[logical.Operation]logical.Handler{
			logical.UpdateOperation: b.destroyVersions,
		},
		Help: "Permanently remove the data of versions of a secret.",
	}
}

// destroyVersions marks each listed, existing version destroyed and deletes
// its data, metadata and data in one transaction.
func (b *versioned) destroyVersions(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
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
	var ops []storage.TxnOp
	for _, n := range versions {
		if vm := meta.Versions[n]; vm != nil && !vm.Destroyed {
			vm.Destroyed = true
			ops = append(ops, deleteOp(versionKey(key, n)))
		}
	}
	if len(ops) == 0 {
		return noContent(), nil
	}
	metaOp, err := putOp(metadataKey(key), meta)
	if err != nil {
		return nil, err
	}
	if err := req.Storage.Transaction(ctx, append(ops, metaOp)); err != nil {
		return nil, storageError("destroy versions", err)
	}
	return noContent(), nil
}
