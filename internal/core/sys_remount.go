package core

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/cofferdev/coffer/internal/logical"
)

// Mount migrations (sys/remount, Vault's API): a secrets engine or auth
// method moves to another path, keeping its storage, accessor and
// configuration. As in Vault, the leases of a moved secrets engine and the
// tokens of a moved auth method are revoked first, the move runs in the
// background, and its status is kept on the active node, in memory, under
// a migration ID.

// Statuses of a migration, as Vault reports them.
const (
	migrationInProgress = "in-progress"
	migrationSuccess    = "success"
	migrationFailure    = "failure"
)

// migration is one remount's progress.
type migration struct {
	source, target string

	mu     sync.Mutex
	status string
}

func (m *migration) set(status string) {
	m.mu.Lock()
	m.status = status
	m.mu.Unlock()
}

func (m *migration) info() map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return map[string]any{"source_mount": m.source, "target_mount": m.target, "status": m.status}
}

// remountPaths serve sys/remount and sys/remount/status/<id>. The status
// lives on the active node, so standbys hand its reads over.
func (c *Core) remountPaths(st *unsealedState) []*logical.Path {
	return []*logical.Path{
		{Pattern: "remount", Help: "move a secrets engine or auth method to another path",
			Fields: map[string]*logical.Field{
				"from": {Type: logical.TypeString, Required: true, Description: "the mount's path"},
				"to":   {Type: logical.TypeString, Required: true, Description: "its new path"},
			},
			Operations: ops(map[logical.Operation]logical.Handler{logical.UpdateOperation: c.handleRemount(st)})},
		{Pattern: "remount/status/(?P<migration_id>.+)", Help: "the status of a mount migration",
			Standby: logical.StandbyForward,
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					id := d.String("migration_id")
					v, ok := st.migrations.Load(id)
					if !ok {
						// 404: statuses live in the active node's memory
						// until it stops leading or seals.
						return nil, nil
					}
					return logical.DataResponse(map[string]any{"migration_id": id, "migration_info": v.(*migration).info()}), nil
				}})},
	}
}

// handleRemount checks the move, then runs it in the background and
// answers with its migration ID.
func (c *Core) handleRemount(st *unsealedState) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		from, err := normalizeMountPath(d.String("from"))
		if err != nil {
			return nil, logical.InvalidRequest("from: %v", err)
		}
		to, err := normalizeMountPath(d.String("to"))
		if err != nil {
			return nil, logical.InvalidRequest("to: %v", err)
		}
		src := st.mounts.get(from)
		if src == nil {
			return nil, logical.InvalidRequest("no mount at %q", from)
		}
		if err := checkRemount(st, src, to); err != nil {
			return nil, err
		}
		id := newID()
		mig := &migration{source: from, target: to, status: migrationInProgress}
		st.migrations.Store(id, mig)
		st.wg.Add(1)
		go func() {
			defer st.wg.Done()
			if err := c.remount(st.background, st, src, to); err != nil {
				c.logger.Error("core: mount migration failed; the mount stays where it was", "migration_id", id, "from", from, "to", to, "error", err)
				mig.set(migrationFailure)
				return
			}
			c.logger.Info("core: mount moved", "migration_id", id, "from", from, "to", to)
			mig.set(migrationSuccess)
		}()
		return logical.DataResponse(map[string]any{"migration_id": id}), nil
	}
}

// checkRemount refuses a move of a built-in mount, between the secrets
// and auth tables, to a reserved path, or to a path that overlaps a mount
// (the source included).
func checkRemount(st *unsealedState, src *MountEntry, to string) error {
	if builtinTypes[src.Type] {
		return logical.InvalidRequest("cannot remount %q", src.Path)
	}
	if st.mounts.isBusy(src.Path) {
		return logical.InvalidRequest("%q is already being moved or upgraded", src.Path)
	}
	if src.Table == tableAuth {
		if !strings.HasPrefix(to, "auth/") || to == "auth/" || to == "auth/token/" {
			return logical.InvalidRequest("an auth method moves only to another auth/<path>, not %q", to)
		}
	} else {
		for _, r := range reservedMounts {
			if strings.HasPrefix(to, r) {
				return logical.InvalidRequest("cannot remount to %q: %q is reserved", to, r)
			}
		}
	}
	for _, e := range st.mounts.persisted() {
		if strings.HasPrefix(to, e.Path) || strings.HasPrefix(e.Path, to) {
			return logical.InvalidRequest("path is already in use at %s", e.Path)
		}
	}
	return nil
}

// remount moves src to the path to. Requests to src are refused from the
// start (its leases or tokens could otherwise be issued behind the
// revocation); the new mount table is persisted before the new path
// serves; on error the mount stays at its old path.
func (c *Core) remount(ctx context.Context, st *unsealedState, src *MountEntry, to string) error {
	st.mountLock.Lock()
	defer st.mountLock.Unlock()
	if st.mounts.get(src.Path) != src {
		return fmt.Errorf("%s was changed meanwhile", src.Path)
	}
	if err := checkRemount(st, src, to); err != nil {
		return err
	}
	st.mounts.setBusy(src.Path, "being moved")
	defer st.mounts.setBusy(src.Path, "")
	if src.Table == tableAuth {
		if err := revokeTokensFrom(ctx, st.tokens, src.Path); err != nil {
			return fmt.Errorf("revoke the tokens of %s: %w", src.Path, err)
		}
	}
	if err := st.leases.RevokePrefix(ctx, src.Path, false); err != nil {
		return fmt.Errorf("revoke the leases of %s: %w", src.Path, err)
	}
	// Everything stored moves along; instantiate gives it its own backend.
	e := *src
	moved := &e
	moved.Path, moved.Options = to, maps.Clone(src.Options)
	if err := c.instantiate(ctx, st, moved); err != nil {
		return err
	}
	entries := []*MountEntry{moved}
	for _, e := range st.mounts.persisted() {
		if e != src {
			entries = append(entries, e)
		}
	}
	if err := c.saveMounts(ctx, entries); err != nil {
		if cl, ok := moved.backend.(logical.Cleaner); ok {
			cl.Cleanup(ctx)
		}
		return err
	}
	st.mounts.mu.Lock()
	delete(st.mounts.entries, src.Path)
	st.mounts.entries[to] = moved
	st.mounts.mu.Unlock()
	if cl, ok := src.backend.(logical.Cleaner); ok {
		cl.Cleanup(ctx)
	}
	return nil
}
