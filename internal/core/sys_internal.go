package core

import (
	"context"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/policy"
)

// internalPaths serve the mount-discovery endpoints clients call before a
// KV command (sys/internal/ui/mounts/<path>) and the read-only auth list.
func (c *Core) internalPaths(st *unsealedState) []*logical.Path {
	return []*logical.Path{
		{Pattern: "internal/ui/mounts/?", Operations: ops(map[logical.Operation]logical.Handler{
			logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				acl, err := c.callerACL(ctx, st, req)
				if err != nil {
					return nil, err
				}
				secret, auth := map[string]any{}, map[string]any{}
				for _, m := range st.mounts.list(tableSecret) {
					if acl.HasMountAccess(m.Path) {
						secret[m.Path] = mountInfo(m)
					}
				}
				for _, m := range st.mounts.list(tableAuth) {
					if acl.HasMountAccess(m.Path) {
						auth[m.Path[len("auth/"):]] = mountInfo(m)
					}
				}
				return logical.DataResponse(map[string]any{"secret": secret, "auth": auth}), nil
			}})},
		{Pattern: "internal/ui/mounts/(?P<path>.+)", Operations: ops(map[logical.Operation]logical.Handler{
			logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				m := st.mounts.route(d.String("path"))
				if m == nil || m.Table != tableSecret {
					return nil, logical.InvalidRequest("no mount found for path %q", d.String("path"))
				}
				acl, err := c.callerACL(ctx, st, req)
				if err != nil {
					return nil, err
				}
				if !acl.HasMountAccess(m.Path) {
					return nil, logical.Errorf(logical.KindPermissionDenied,
						"preflight capability check returned 403, please ensure client's policies grant access to path %q", m.Path)
				}
				info := mountInfo(m)
				info["path"] = m.Path
				return logical.DataResponse(info), nil
			}})},
		{Pattern: "auth/?", Operations: ops(map[logical.Operation]logical.Handler{
			logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				data := map[string]any{}
				for _, m := range st.mounts.list(tableAuth) {
					data[m.Path[len("auth/"):]] = mountInfo(m)
				}
				return logical.DataResponse(data), nil
			}})},
	}
}

// callerACL authenticates the request's token for an endpoint that skips
// the pipeline's check (see unauthenticatedPaths).
func (c *Core) callerACL(ctx context.Context, st *unsealedState, req *logical.Request) (*policy.ACL, error) {
	te, err := c.lookupToken(ctx, st, req.ClientToken, req.RemoteAddr)
	if err != nil {
		return nil, err
	}
	if isWrappingToken(te) {
		return nil, logical.ErrPermissionDenied
	}
	return st.policies.acl(ctx, te.Policies)
}
