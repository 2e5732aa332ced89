package kv

import (
	"context"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// destroyPath is destroy/<path>: permanently remove the given versions' data.
func (b *versioned) destroyPath() *logical.Path {
	return b.versionsPath("destroy", "Permanently remove the data of versions of a secret.",
		"Versions to destroy.", destroy)
}

// destroy marks each listed, existing version destroyed and deletes its
// data; the metadata and the deletions are written in one transaction.
func destroy(_ context.Context, _ *logical.Request, key string, meta *keyMetadata, versions []uint64, _ time.Time) ([]storage.TxnOp, bool, error) {
	var ops []storage.TxnOp
	for _, n := range versions {
		if vm := meta.Versions[n]; vm != nil && !vm.Destroyed {
			vm.Destroyed = true
			ops = append(ops, deleteOp(versionKey(key, n)))
		}
	}
	return ops, len(ops) > 0, nil
}
