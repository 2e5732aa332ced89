package token

import (
	"context"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/logical"
)

func (b *backend) rolePaths() []*logical.Path {
	return []*logical.Path{
		{
			Pattern:    `roles/?`,
			Operations: map[logical.Operation]logical.Handler{logical.ListOperation: authutil.ListHandler("token: list roles", rolePrefix)},
			Help:       "List the token roles.",
		},
		{
			Pattern: `roles/` + roleNamePattern,
			Fields:  roleFields(),
			Operations: map[logical.Operation]logical.Handler{
				logical.CreateOperation: b.handleRoleWrite,
				logical.UpdateOperation: b.handleRoleWrite,
				logical.ReadOperation:   b.handleRoleRead,
				logical.DeleteOperation: b.handleRoleDelete,
			},
			Existence: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
				r, err := loadRole(ctx, req.Storage, d.String("role_name"))
				return r != nil, err
			},
			Help: "Create, update, read or delete a token role.",
		},
	}
}

func (b *backend) handleRoleRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, err := loadRole(ctx, req.Storage, d.String("role_name"))
	if err != nil || r == nil {
		return nil, err
	}
	return logical.DataResponse(r.data()), nil
}

// handleRoleWrite creates a role with Vault's defaults or updates the
// fields the client sent; nothing is stored unless the result is valid.
func (b *backend) handleRoleWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.String("role_name")
	b.roleMu.Lock()
	defer b.roleMu.Unlock()
	r, err := loadRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = &Role{Name: name, Renewable: true, Type: roleTypeDefaultService}
	}
	if err := r.update(d); err != nil {
		return nil, err
	}
	if err := authutil.PutJSON(ctx, req.Storage, "token", roleKey(name), r); err != nil {
		return nil, err
	}
	return noContent(), nil
}

// handleRoleDelete removes a role. Tokens made from it keep working until
// they expire, but can no longer be renewed.
func (b *backend) handleRoleDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	b.roleMu.Lock()
	defer b.roleMu.Unlock()
	if err := req.Storage.Delete(ctx, roleKey(d.String("role_name"))); err != nil {
		return nil, err
	}
	return noContent(), nil
}
