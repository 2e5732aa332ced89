package kv

import (
	"context"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// deletePath is delete/<path>: soft-delete the given versions.
func (b *versioned) deletePath() *logical.Path {
	return b.versionsPath("delete", "Mark versions of a secret deleted; undelete reverses it.",
		"Versions to mark deleted.", softDelete)
}

// softDelete sets the deletion time of each listed version that exists and
// is neither destroyed nor already deleted. Unknown versions are skipped.
func softDelete(_ context.Context, _ *logical.Request, _ string, meta *keyMetadata, versions []uint64, now time.Time) ([]storage.TxnOp, bool, error) {
	changed := false
	for _, n := range versions {
		if vm := meta.Versions[n]; vm != nil && !vm.gone(now) {
			vm.DeletionTime = now
			changed = true
		}
	}
	return nil, changed, nil
}
