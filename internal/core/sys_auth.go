package core

import (
	"context"
	"fmt"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/token"
)

// authPaths serve sys/auth: enabling, listing, reading and disabling auth
// methods. Tuning is served by the shared tune paths (sys/auth/<path>/tune).
func (c *Core) authPaths(st *unsealedState) []*logical.Path {
	enableFields := mountEnableFields()
	return []*logical.Path{
		{Pattern: "auth/?", Help: "list the enabled auth methods",
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					data := map[string]any{}
					for _, m := range st.mounts.list(tableAuth) {
						data[strings.TrimPrefix(m.Path, "auth/")] = mountInfo(m)
					}
					return logical.DataResponse(data), nil
				}})},
		{Pattern: "auth/(?P<path>.+)", Fields: enableFields, Help: "enable, read or disable an auth method",
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					m, err := authMountAt(st, d.String("path"))
					if err != nil {
						return nil, err
					}
					if m == nil {
						return nil, logical.InvalidRequest("no auth method is enabled at %q", d.String("path"))
					}
					return logical.DataResponse(mountInfo(m)), nil
				},
				logical.UpdateOperation: c.handleEnableAuth(st),
				logical.DeleteOperation: c.handleDisableAuth(st)})},
	}
}

// authMountAt finds the auth mount for a sys/auth path ("userpass").
func authMountAt(st *unsealedState, raw string) (*MountEntry, error) {
	p, err := normalizeMountPath(raw)
	if err != nil {
		return nil, err
	}
	m := st.mounts.get("auth/" + p)
	if m == nil || m.Table != tableAuth {
		return nil, nil
	}
	return m, nil
}

func (c *Core) handleEnableAuth(st *unsealedState) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		p, err := normalizeMountPath(d.String("path"))
		if err != nil {
			return nil, err
		}
		m := &MountEntry{Table: tableAuth, Path: "auth/" + p, Type: d.String("type"), Description: d.String("description"),
			Options: d.KVPairs("options"), Local: d.Bool("local"), SealWrap: d.Bool("seal_wrap")}
		if builtinTypes[m.Type] {
			return nil, logical.InvalidRequest("cannot enable %q: it is built in", m.Type)
		}
		if _, ok := c.authFactories[m.Type]; !ok {
			return nil, logical.InvalidRequest("unknown auth method type %q", m.Type)
		}
		if m.Config, err = parseMountConfig(d.Map("config"), c.maxTTL); err != nil {
			return nil, err
		}
		if err := validateTokenType(m.Config.TokenType); err != nil {
			return nil, err
		}
		if err := c.mount(ctx, st, m); err != nil {
			return nil, err
		}
		return &logical.Response{NoContent: true}, nil
	}
}

// handleDisableAuth removes an auth method: the tokens it issued are
// revoked first (with their leases), then the mount and its storage go.
func (c *Core) handleDisableAuth(st *unsealedState) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		m, err := authMountAt(st, d.String("path"))
		if err != nil {
			return nil, err
		}
		if m == nil {
			return &logical.Response{NoContent: true}, nil
		}
		if builtinTypes[m.Type] {
			return nil, logical.InvalidRequest("cannot disable %q", m.Path)
		}
		if err := revokeTokensFrom(ctx, st.tokens, m.Path); err != nil {
			return nil, fmt.Errorf("core: revoke tokens of %s before disabling it: %w", m.Path, err)
		}
		return c.unmount(ctx, st, m)
	}
}

// revokeTokensFrom revokes every stored token created through a path under
// prefix (the logins of one auth mount). Batch tokens are not stored; they
// expire on their own and are refused once their mount is gone.
func revokeTokensFrom(ctx context.Context, ts *token.Store, prefix string) error {
	accessors, err := ts.Accessors(ctx)
	if err != nil {
		return err
	}
	for _, acc := range accessors {
		te, err := ts.LookupAccessor(ctx, acc)
		if err != nil {
			continue // expired or revoked since the listing
		}
		if strings.HasPrefix(te.Path, prefix) {
			if err := ts.Revoke(ctx, te); err != nil {
				return err
			}
		}
	}
	return nil
}

// unmount removes m from the table after revoking its leases, persisting
// the table first, then wipes its storage. The caller holds no mount lock.
func (c *Core) unmount(ctx context.Context, st *unsealedState, m *MountEntry) (*logical.Response, error) {
	st.mountLock.Lock()
	defer st.mountLock.Unlock()
	var rest []*MountEntry
	for _, e := range st.mounts.persisted() {
		if e.Path != m.Path {
			rest = append(rest, e)
		}
	}
	if err := st.leases.RevokePrefix(ctx, m.Path, false); err != nil {
		return nil, fmt.Errorf("core: revoke leases of %s before unmounting: %w", m.Path, err)
	}
	// Persist first: a crash afterwards leaves only unreachable ciphertext,
	// never a mount whose data is half gone.
	if err := c.saveMounts(ctx, rest); err != nil {
		return nil, err
	}
	st.mounts.mu.Lock()
	delete(st.mounts.entries, m.Path)
	st.mounts.mu.Unlock()
	if cl, ok := m.backend.(logical.Cleaner); ok {
		cl.Cleanup(ctx)
	}
	if err := storage.DeletePrefix(ctx, c.barrier, viewPrefix(m)); err != nil {
		return nil, fmt.Errorf("core: wipe unmounted storage: %w", err)
	}
	c.logger.Info("core: unmounted", "path", m.Path)
	return &logical.Response{NoContent: true}, nil
}

func validateTokenType(t string) error {
	switch t {
	case "", mountTokenDefaultService, mountTokenDefaultBatch, mountTokenService, mountTokenBatch:
		return nil
	}
	return logical.InvalidRequest("invalid token_type %q: want default-service, default-batch, service or batch", t)
}
