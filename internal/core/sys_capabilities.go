package core

import (
	"context"
	"sort"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/policy"
)

// capabilityPaths serve sys/capabilities, -self and -accessor.
func (c *Core) capabilityPaths(st *unsealedState) []*logical.Path {
	fields := func(extra string) map[string]*logical.Field {
		f := map[string]*logical.Field{
			"path":  {Type: logical.TypeStringSlice, Description: "deprecated: use paths"},
			"paths": {Type: logical.TypeStringSlice, Description: "paths to check"},
		}
		if extra != "" {
			f[extra] = &logical.Field{Type: logical.TypeString, Required: true}
		}
		return f
	}
	answer := func(ctx context.Context, policies []string, d *logical.FieldData) (*logical.Response, error) {
		paths := append(d.Strings("paths"), d.Strings("path")...)
		if len(paths) == 0 {
			return nil, logical.InvalidRequest("missing \"paths\"")
		}
		acl, err := st.policies.acl(ctx, policies)
		if err != nil {
			return nil, err
		}
		return capabilitiesResponse(acl, paths), nil
	}
	return []*logical.Path{
		{Pattern: "capabilities", Fields: fields("token"),
			Operations: ops(map[logical.Operation]logical.Handler{logical.UpdateOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				te, err := st.tokens.Lookup(ctx, d.String("token"))
				if err != nil {
					return nil, logical.InvalidRequest("invalid token")
				}
				return answer(ctx, te.Policies, d)
			}})},
		{Pattern: "capabilities-accessor", Fields: fields("accessor"),
			Operations: ops(map[logical.Operation]logical.Handler{logical.UpdateOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				te, err := st.tokens.LookupAccessor(ctx, d.String("accessor"))
				if err != nil {
					return nil, logical.InvalidRequest("invalid accessor")
				}
				return answer(ctx, te.Policies, d)
			}})},
		{Pattern: "capabilities-self", Fields: fields(""),
			Operations: ops(map[logical.Operation]logical.Handler{logical.UpdateOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				if req.Caller == nil {
					return nil, logical.ErrPermissionDenied
				}
				return answer(ctx, req.Caller.Policies, d)
			}})},
	}
}

// capabilitiesResponse has one key per path, plus "capabilities" holding the
// union over all paths, as Vault answers.
func capabilitiesResponse(acl *policy.ACL, paths []string) *logical.Response {
	data := map[string]any{}
	union := map[string]bool{}
	for _, p := range paths {
		caps := acl.Capabilities(p)
		data[p] = caps
		for _, cp := range caps {
			union[cp] = true
		}
	}
	all := make([]string, 0, len(union))
	for cp := range union {
		all = append(all, cp)
	}
	sort.Strings(all)
	if len(paths) == 1 {
		all = data[paths[0]].([]string)
	}
	data["capabilities"] = all
	return logical.DataResponse(data)
}
