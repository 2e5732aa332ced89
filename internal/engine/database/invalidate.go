package database

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cofferdev/coffer/internal/logical"
)

var (
	_ logical.Invalidator   = (*backend)(nil)
	_ logical.StandbyPather = (*backend)(nil)
)

// Invalidate drops what the engine keeps in memory for key, a key of the
// mount's storage view written or deleted by another node. The only such
// state is the connection pool of each config, built from the config's
// URL, user and (root) password: a change of "config/<name>" (a new
// password after rotate-root on the active node, a new URL) closes that
// config's pool, and the next request opens one from the stored config.
// Roles, static roles and journal entries are read from storage on every
// request and drop nothing; a key the layout does not know closes every
// pool.
func (b *backend) Invalidate(_ context.Context, key string) {
	var dropped []*pgxpool.Pool
	switch {
	case strings.HasPrefix(key, "config/"):
		if name := strings.TrimPrefix(key, "config/"); name != "" && !strings.Contains(name, "/") {
			dropped = b.dropPools(name)
		} else {
			dropped = b.dropPools()
		}
	case strings.HasPrefix(key, "role/"), strings.HasPrefix(key, "static-role/"), strings.HasPrefix(key, journalPrefix):
	default:
		dropped = b.dropPools()
	}
	// The core calls Invalidate from the storage apply loop: closing a
	// pool waits for the queries in flight on it, so it happens aside.
	// The pool is already out of the cache, so no new request gets it.
	for _, p := range dropped {
		go p.Close()
	}
}
