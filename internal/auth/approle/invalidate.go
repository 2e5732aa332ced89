package approle

import (
	"context"

	"github.com/cofferdev/coffer/internal/logical"
)

var _ logical.Invalidator = (*Backend)(nil)

// Invalidate drops what the method keeps in memory for key, a key of the
// mount's storage view written or deleted by another node. The mount's
// HMAC key is the only such state; it is written once and never rotated,
// but a snapshot restore can replace it, so a change of "hmac-key" drops
// the cached copy and the next request reads it again. Roles, role IDs
// and secret IDs are read from storage on every request and drop nothing.
func (b *Backend) Invalidate(_ context.Context, key string) {
	if key == hmacKeyPath {
		b.keys.reset()
	}
}

// reset forgets the cached key. The bytes are not cleared: a request in
// flight may still be hashing with them.
func (k *hmacKeys) reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.key = nil
}
