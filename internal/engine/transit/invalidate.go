package transit

import (
	"context"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
)

var _ logical.Invalidator = (*Backend)(nil)

// Invalidate drops the cached snapshot of the key stored at key (a key of
// the mount's storage view, "policy/<name>") after another node wrote or
// deleted it, so the next request loads the key from storage: a rotation,
// a config change (min_decryption_version, deletion_allowed, ...) or a
// deletion on the active node takes effect here. "config/cache" and the
// wrapping key are read from storage on every use and drop nothing; any
// other key empties the whole cache.
func (b *Backend) Invalidate(_ context.Context, key string) {
	switch name, ok := strings.CutPrefix(key, policyPrefix); {
	case ok && name != "":
		b.store.invalidate(name)
	case key == cacheConfigKey, key == wrappingKeyKey:
	default:
		b.store.invalidateAll()
	}
}

// invalidate drops name's snapshot under its stripe lock: a load that read
// storage before the change finishes (and publishes) first, and is then
// dropped; one that starts later reads the changed entry.
func (ks *keyStore) invalidate(name string) {
	l := ks.lockFor(name)
	l.Lock()
	defer l.Unlock()
	ks.publish(name, nil)
}

// invalidateAll drops every snapshot, holding every stripe lock (taken in
// order, so it cannot deadlock with itself) for the same reason.
func (ks *keyStore) invalidateAll() {
	for i := range ks.locks {
		ks.locks[i].Lock()
	}
	defer func() {
		for i := range ks.locks {
			ks.locks[i].Unlock()
		}
	}()
	ks.mu.Lock()
	defer ks.mu.Unlock()
	clear(ks.cache)
}
