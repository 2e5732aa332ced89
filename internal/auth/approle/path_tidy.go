package approle

import (
	"context"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

func (b *Backend) tidyPath() *logical.Path {
	return &logical.Path{
		Pattern:    `tidy/secret-id`,
		Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleTidy},
		Help:       "Delete expired secret IDs, accessors without a secret ID, and secret IDs of deleted roles.",
	}
}

// tidyStats counts what a tidy removed.
type tidyStats struct {
	expired, danglingAccessors, orphanedRoles int
}

// handleTidy runs the tidy to completion (Vault runs it in the background
// and answers 202; here the caller gets the result).
func (b *Backend) handleTidy(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	s, err := storageOf(req)
	if err != nil {
		return nil, err
	}
	if !b.tidyMu.TryLock() {
		return nil, logical.InvalidRequest("tidy operation already in progress")
	}
	defer b.tidyMu.Unlock()
	st, err := b.tidy(ctx, s)
	if err != nil {
		return nil, err
	}
	b.logger.Info("approle tidy done", "mount", req.MountPoint, "expired_secret_ids", st.expired,
		"dangling_accessors", st.danglingAccessors, "deleted_role_uids", st.orphanedRoles)
	return &logical.Response{Data: map[string]any{
		"expired_secret_ids": st.expired, "dangling_accessors": st.danglingAccessors,
		"deleted_roles_cleaned": st.orphanedRoles,
	}}, nil
}

// tidy walks every role uid found in storage.
func (b *Backend) tidy(ctx context.Context, s storage.Backend) (tidyStats, error) {
	var st tidyStats
	// List the uids before the roles: a role's secret IDs are written after
	// the role, so a uid seen here whose role is absent below belongs to a
	// deleted role, never to one created meanwhile.
	uids := map[string]bool{}
	for _, prefix := range []string{secretIDPrefix, accessorPrefix} {
		keys, err := s.List(ctx, prefix)
		if err != nil {
			return st, wrapErr("list", err)
		}
		for _, k := range keys {
			uids[strings.TrimSuffix(k, "/")] = true
		}
	}
	live, err := liveUIDs(ctx, s)
	if err != nil {
		return st, err
	}
	for uid := range uids {
		if !live[uid] {
			st.orphanedRoles++
			if err := deleteRoleSecrets(ctx, s, uid); err != nil {
				return st, err
			}
			continue
		}
		if err := b.tidyRole(ctx, s, uid, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}

// liveUIDs returns the uids of the roles that exist.
func liveUIDs(ctx context.Context, s storage.Backend) (map[string]bool, error) {
	names, err := s.List(ctx, rolePrefix)
	if err != nil {
		return nil, wrapErr("list roles", err)
	}
	live := map[string]bool{}
	for _, n := range names {
		r, err := getRole(ctx, s, n)
		if err != nil {
			return nil, err
		}
		if r != nil {
			live[r.UID] = true
		}
	}
	return live, nil
}

// tidyRole deletes a role's expired secret IDs, then the accessors whose
// secret ID is gone.
func (b *Backend) tidyRole(ctx context.Context, s storage.Backend, uid string, st *tidyStats) error {
	hashes, err := s.List(ctx, secretIDPrefix+uid+"/")
	if err != nil {
		return wrapErr("list secret ids", err)
	}
	for _, h := range hashes {
		expired, err := b.tidySecretID(ctx, s, uid, h)
		if err != nil {
			return err
		}
		if expired {
			st.expired++
		}
	}
	accessors, err := s.List(ctx, accessorPrefix+uid+"/")
	if err != nil {
		return wrapErr("list accessors", err)
	}
	for _, ah := range accessors {
		var a accessorEntry
		found, err := getJSON(ctx, s, accessorKey(uid, ah), &a)
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		mu := stripe(&b.secretLocks, a.SecretIDHMAC)
		mu.Lock()
		e, err := getSecretID(ctx, s, uid, a.SecretIDHMAC)
		if err == nil && e == nil {
			st.danglingAccessors++
			err = commit(ctx, s, deleteOp(accessorKey(uid, ah)))
		}
		mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// tidySecretID deletes one secret ID if it has expired.
func (b *Backend) tidySecretID(ctx context.Context, s storage.Backend, uid, h string) (bool, error) {
	mu := stripe(&b.secretLocks, h)
	mu.Lock()
	defer mu.Unlock()
	e, err := getSecretID(ctx, s, uid, h)
	if err != nil || e == nil || !e.expired(b.now()) {
		return false, err
	}
	return true, b.deleteSecretID(ctx, s, uid, h, e)
}
