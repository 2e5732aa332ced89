package token

import "strings"

// Invalidate drops what the Store caches for key, a key relative to the
// Store's view that was written or deleted without going through this Store
// (on a standby node, by the active node). The entry cache is keyed by token
// hash, so an "id/<hash>" key drops that token's entry; the index keys
// (accessor/, parent/, expiry/) are never cached and drop nothing; any other
// key cannot be mapped to one entry and drops the whole cache. After
// Invalidate returns, the next lookup of the token reads storage, so a token
// revoked on the active node stops working here.
func (s *Store) Invalidate(key string) {
	switch {
	case strings.HasPrefix(key, idPrefix):
		s.cache.invalidate(key)
	case strings.HasPrefix(key, accessorPrefix),
		strings.HasPrefix(key, parentPrefix),
		strings.HasPrefix(key, expiryPrefix):
	default:
		s.cache.reset()
	}
}
