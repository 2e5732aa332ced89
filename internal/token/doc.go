// Package token is Coffer's token store, which keeps service tokens only as
// keyed hashes and issues unstored batch tokens, and the Vault-compatible
// auth/token/ API built on it.
//
// # Token shape and hashing
//
// A service token is "hvs." followed by 24 base62 characters drawn from
// crypto/rand (about 143 bits). The raw token is returned once by Create and
// is never stored, logged or put in an error: the store identifies a token by
// the hex HMAC-SHA256 of the raw string under a 32-byte key that the core
// keeps in the barrier. Lookup checks the shape (prefix, length, alphabet)
// before hashing, so garbage is rejected without touching storage.
//
// # Batch tokens
//
// A batch token ("hvb.") is never stored: it carries its entry, sealed with
// AES-256-GCM under Options.BatchKey (layout in batch.go). Creating one
// writes nothing. Lookup opens it, checks its expiry and that its parent,
// if any, is still live, so revoking a parent ends its batch children.
// Batch entries have no hash, accessor, cubbyhole or use limit; Renew,
// Revoke and RevokeOrphan refuse them with ErrBatchToken, Use ignores them,
// and they cannot create child tokens.
//
// # Storage layout
//
// All keys live under the view given to NewStore:
//
//	id/<hash>                         JSON Entry of the token
//	accessor/<accessor>               the token's hash
//	parent/<parentHash>/<childHash>   the child's hash (children index)
//	expiry/<%020d unix nanos>/<hash>  the token's hash (expiry index)
//
// Create, Renew and the deletion of each revoked token write every affected
// key in one storage transaction, so no token is ever half-written. Expiry
// keys sort by time, so RevokeExpired stops at the first key in the future
// and never reads token entries that are not due.
//
// # Token roles
//
// Token roles (auth/token/roles/<name>) are not kept in the Store's view
// but in the token mount's own storage (the request's Storage), under
// role/<name>, read afresh on every create against the role and on every
// renewal of a token made from it: the backend is the core's
// logical.AuthRenewer for tokens it made. A token records its role only in
// its creation path, auth/token/create/<name>[/<path_suffix>].
//
// # Concurrency
//
// Read-modify-write operations (Use, Renew, revocation, and Create under a
// parent) take a per-token lock inside the Store. Locks are always taken from
// parent to child, so they cannot deadlock. The locks are local to the
// process: in an HA cluster only the active node writes tokens, and standbys
// forward writes to it. A standby keeps its entry cache current by calling
// Store.Invalidate with every key the active node wrote.
//
// # Revocation
//
// Revoke first marks the token as revoked (NumUses = -1), so it stops working
// at once, then revokes its descendants depth first, calls Options.OnRevoke
// and deletes the token's keys. A failed revocation can be retried: every
// step is idempotent.
package token
