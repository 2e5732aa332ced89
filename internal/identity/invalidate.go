package identity

import (
	"context"
	"errors"
	"strings"

	"github.com/cofferdev/coffer/internal/storage"
)

// Invalidate brings the in-memory copy of the object stored at key, a key
// relative to the store's view ("entity/<id>", "group/<id>"), up to date
// after it was written or deleted without going through this Store (on a
// standby node, by the active node). It re-reads that one object and
// replaces or removes it in the index; any other key rebuilds the whole
// index from storage. The policy cache is dropped in every case.
//
// The objects one write touched (an entity merge moves aliases between
// entities) can be reloaded one key at a time, in any order: the index
// removes an alias or name mapping only while it still points to the object
// being removed. Between two such calls a reader may see an alias on
// neither entity, never on a wrong one.
//
// An object that cannot be read (a storage error other than not found) is
// logged and removed from the index: its grants stop rather than go stale.
// A failed rebuild is logged and keeps the old index.
func (s *Store) Invalidate(ctx context.Context, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cache = newPolicyCache()
	if id, ok := objectID(key, entityPrefix); ok {
		var e Entity
		switch err := s.readJSON(ctx, key, &e); {
		case err == nil && e.ID == id:
			s.idx.putEntity(&e)
		default:
			s.logReloadError(key, err)
			s.idx.removeEntity(id)
		}
		return
	}
	if id, ok := objectID(key, groupPrefix); ok {
		var g Group
		switch err := s.readJSON(ctx, key, &g); {
		case err == nil && g.ID == id:
			s.idx.putGroup(&g)
		default:
			s.logReloadError(key, err)
			s.idx.removeGroup(id)
		}
		return
	}
	idx, err := s.load(ctx)
	if err != nil {
		s.logger.Error("identity: rebuilding the index failed; keeping the old one", "key", key, "error", err)
		return
	}
	s.idx = idx
}

// objectID returns the ID of an object key directly under prefix.
func objectID(key, prefix string) (string, bool) {
	id, ok := strings.CutPrefix(key, prefix)
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// logReloadError logs why an object was dropped, unless it was deleted.
func (s *Store) logReloadError(key string, err error) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err == nil:
		s.logger.Error("identity: stored object does not match its key; dropped", "key", key)
	default:
		s.logger.Error("identity: reloading an object failed; dropped", "key", key, "error", err)
	}
}
