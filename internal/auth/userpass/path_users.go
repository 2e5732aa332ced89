package userpass

import (
	"context"
	"strings"

	"github.com/cofferdev/coffer/internal/auth/tokenutil"
	"github.com/cofferdev/coffer/internal/logical"
)

// errNoUser is returned when a sub-path names a user that does not exist.
var errNoUser = logical.InvalidRequest("username does not exist")

func (b *Backend) userPaths() []*logical.Path {
	userFields := tokenutil.AddFields(map[string]*logical.Field{
		"password":    {Type: logical.TypeString, Description: "password of the user"},
		"bound_cidrs": {Type: logical.TypeStringSlice, Description: "deprecated spelling of token_bound_cidrs"},
	})
	return []*logical.Path{
		{
			Pattern:    `users/?`,
			Operations: map[logical.Operation]logical.Handler{logical.ListOperation: b.handleList},
			Help:       "List the users.",
		},
		{
			Pattern: `users/` + usernamePattern,
			Fields:  userFields,
			Operations: map[logical.Operation]logical.Handler{
				logical.CreateOperation: b.handleWrite,
				logical.UpdateOperation: b.handleWrite,
				logical.ReadOperation:   b.handleRead,
				logical.DeleteOperation: b.handleDelete,
			},
			Existence: b.userExists,
			Help:      "Create, update, read or delete a user.",
		},
		{
			Pattern: `users/` + usernamePattern + `/password`,
			Fields: map[string]*logical.Field{
				"password": {Type: logical.TypeString, Required: true, Description: "new password"},
			},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handlePassword},
			Help:       "Change a user's password.",
		},
		{
			Pattern: `users/` + usernamePattern + `/policies`,
			Fields: map[string]*logical.Field{
				"token_policies": {Type: logical.TypeStringSlice, Description: "policies of issued tokens"},
				"policies":       {Type: logical.TypeStringSlice, Description: "deprecated spelling of token_policies"},
			},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handlePolicies},
			Help:       "Replace a user's token policies.",
		},
	}
}

// username returns the path's username, lowercased as in Vault.
func username(d *logical.FieldData) string { return strings.ToLower(d.String("username")) }

func (b *Backend) userExists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	s, err := storageOf(req)
	if err != nil {
		return false, err
	}
	u, err := getUser(ctx, s, username(d))
	return u != nil, err
}

func (b *Backend) handleList(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	s, err := storageOf(req)
	if err != nil {
		return nil, err
	}
	names, err := listUsers(ctx, s)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(names), nil
}

func (b *Backend) handleRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s, err := storageOf(req)
	if err != nil {
		return nil, err
	}
	u, err := getUser(ctx, s, username(d))
	if err != nil || u == nil {
		return nil, err
	}
	data := u.Params.Data(nil)
	if len(u.Policies) > 0 {
		data["policies"] = data["token_policies"]
	}
	return logical.DataResponse(data), nil
}

// handleWrite creates a user (a password is required) or updates the
// fields the client sent.
func (b *Backend) handleWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return b.writeUser(ctx, req, d, func(u *user) (*user, error) {
		if u == nil {
			if d.String("password") == "" {
				return nil, logical.InvalidRequest("missing password")
			}
			u = &user{}
		}
		if err := parseTokenParams(&u.Params, d); err != nil {
			return nil, err
		}
		if _, ok := d.GetOk("password"); ok {
			if err := b.setPassword(ctx, u, d.String("password")); err != nil {
				return nil, err
			}
		}
		return u, nil
	})
}

// writeUser reads the user the path names (nil if there is none) under the
// write lock, and stores the user change makes of it.
func (b *Backend) writeUser(ctx context.Context, req *logical.Request, d *logical.FieldData, change func(*user) (*user, error)) (*logical.Response, error) {
	s, err := storageOf(req)
	if err != nil {
		return nil, err
	}
	name := username(d)
	b.mu.Lock()
	defer b.mu.Unlock()
	u, err := getUser(ctx, s, name)
	if err != nil {
		return nil, err
	}
	if u, err = change(u); err != nil {
		return nil, err
	}
	if err := putUser(ctx, s, name, u); err != nil {
		return nil, err
	}
	return &logical.Response{NoContent: true}, nil
}

// parseTokenParams applies the token_* fields, and the deprecated
// bound_cidrs when token_bound_cidrs was not sent.
func parseTokenParams(p *tokenutil.Params, d *logical.FieldData) error {
	if err := p.Parse(d); err != nil {
		return err
	}
	if _, ok := d.GetOk("token_bound_cidrs"); ok {
		return nil
	}
	if v, ok := d.GetOk("bound_cidrs"); ok {
		cidrs, err := tokenutil.ParseCIDRs(v.([]string))
		if err != nil {
			return logical.InvalidRequest("bound_cidrs: %v", err)
		}
		p.BoundCIDRs = cidrs
	}
	return nil
}

// setPassword hashes password into u.
func (b *Backend) setPassword(ctx context.Context, u *user, password string) error {
	if password == "" {
		return logical.InvalidRequest("missing password")
	}
	var (
		h   passwordHash
		err error
	)
	if serr := b.withHashSlot(ctx, func() { h, err = hashPassword(password) }); serr != nil {
		return serr
	}
	if err != nil {
		return err
	}
	u.Password = h
	return nil
}

func (b *Backend) handleDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s, err := storageOf(req)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := deleteUser(ctx, s, username(d)); err != nil {
		return nil, err
	}
	return &logical.Response{NoContent: true}, nil
}

// updateUser applies change to an existing user under the write lock.
func (b *Backend) updateUser(ctx context.Context, req *logical.Request, d *logical.FieldData, change func(*user) error) (*logical.Response, error) {
	return b.writeUser(ctx, req, d, func(u *user) (*user, error) {
		if u == nil {
			return nil, errNoUser
		}
		return u, change(u)
	})
}

func (b *Backend) handlePassword(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return b.updateUser(ctx, req, d, func(u *user) error {
		return b.setPassword(ctx, u, d.String("password"))
	})
}

func (b *Backend) handlePolicies(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	_, tok := d.GetOk("token_policies")
	_, old := d.GetOk("policies")
	if !tok && !old {
		return nil, logical.InvalidRequest("missing policies")
	}
	return b.updateUser(ctx, req, d, func(u *user) error { return u.Params.Parse(d) })
}
