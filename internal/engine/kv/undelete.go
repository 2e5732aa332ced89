package kv

import (
	"context"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// undeletePath is undelete/<path>: restore soft-deleted versions.
func (b *versioned) undeletePath() *logical.Path {
	return b.versionsPath("undelete", "Restore soft-deleted versions of a secret.",
		"Versions to restore.", undelete)
}

// undelete clears the deletion time of each listed version that exists and
// is not destroyed. As in Vault, a delete_version_after in force starts
// again from now.
func undelete(ctx context.Context, req *logical.Request, _ string, meta *keyMetadata, versions []uint64, now time.Time) ([]storage.TxnOp, bool, error) {
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, false, err
	}
	changed := false
	for _, n := range versions {
		vm := meta.Versions[n]
		if vm == nil || vm.Destroyed {
			continue
		}
		vm.DeletionTime = time.Time{}
		if t, ok := deletionTime(now, cfg.DeleteVersionAfter, meta.DeleteVersionAfter); ok {
			vm.DeletionTime = t
		}
		changed = true
	}
	return nil, changed, nil
}
