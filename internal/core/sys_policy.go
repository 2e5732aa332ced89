package core

import (
	"context"

	"github.com/cofferdev/coffer/internal/logical"
)

// policyPaths serve sys/policy (legacy) and sys/policies/acl.
func (c *Core) policyPaths(st *unsealedState) []*logical.Path {
	body := map[string]*logical.Field{
		"policy": {Type: logical.TypeString, Description: "policy text in HCL or JSON"},
		"rules":  {Type: logical.TypeString, Description: "legacy name of policy"},
	}
	list := func(legacy bool) logical.Handler {
		return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
			names, err := st.policies.list(ctx)
			if err != nil {
				return nil, err
			}
			if legacy {
				return logical.DataResponse(map[string]any{"policies": names, "keys": names}), nil
			}
			return logical.ListResponse(names), nil
		}
	}
	read := func(field string) logical.Handler {
		return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
			name := d.String("name")
			if name == rootPolicy {
				return logical.DataResponse(map[string]any{"name": rootPolicy, field: ""}), nil
			}
			p, err := st.policies.get(ctx, name)
			if err != nil || p == nil {
				return nil, err
			}
			return logical.DataResponse(map[string]any{"name": p.Name, field: p.Raw}), nil
		}
	}
	write := func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		text := d.String("policy")
		if text == "" {
			text = d.String("rules")
		}
		if text == "" {
			return nil, logical.InvalidRequest("missing policy text in \"policy\"")
		}
		if err := st.policies.put(ctx, d.String("name"), text); err != nil {
			return nil, err
		}
		return &logical.Response{NoContent: true}, nil
	}
	del := func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		if err := st.policies.delete(ctx, d.String("name")); err != nil {
			return nil, err
		}
		return &logical.Response{NoContent: true}, nil
	}
	exists := func(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
		p, err := st.policies.get(ctx, d.String("name"))
		return p != nil, err
	}
	return []*logical.Path{
		{Pattern: "policy/?", Operations: ops(map[logical.Operation]logical.Handler{
			logical.ReadOperation: list(true), logical.ListOperation: list(true)})},
		{Pattern: "policy/(?P<name>[^/]+)", Fields: body, Existence: exists,
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ReadOperation: read("rules"), logical.UpdateOperation: write, logical.DeleteOperation: del})},
		{Pattern: "policies/acl/?", Operations: ops(map[logical.Operation]logical.Handler{
			logical.ListOperation: list(false)})},
		{Pattern: "policies/acl/(?P<name>[^/]+)", Fields: body, Existence: exists,
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ReadOperation: read("policy"), logical.UpdateOperation: write, logical.DeleteOperation: del})},
	}
}
