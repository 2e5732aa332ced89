package database

import (
	"context"

	"github.com/cofferdev/coffer/internal/logical"
)

func (b *backend) rootPaths() []*logical.Path {
	return []*logical.Path{
		{Pattern: "rotate-root/(?P<name>[^/]+)", Help: "rotate a config's root password",
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.rotateRoot}},
		{Pattern: "reset/(?P<name>[^/]+)", Help: "close and reopen a config's connections",
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.reset}},
	}
}

// rotateRoot sets a new password for the config's root user, stores it and
// reconnects with it. Only the engine knows the new password.
func (b *backend) rotateRoot(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.String("name")
	b.rotMu.Lock()
	defer b.rotMu.Unlock()
	c, p, err := b.pool(ctx, name)
	if err != nil {
		return nil, err
	}
	if c.Username == "" {
		return nil, logical.InvalidRequest("config %q has no username to rotate", name)
	}
	password, err := b.newPassword(ctx, c)
	if err != nil {
		return nil, err
	}
	stmts := c.RootRotationStatements
	if len(stmts) == 0 {
		stmts = defaultRootStatements
	}
	if err := b.beginRotation(ctx, journalRoot, name, password); err != nil {
		return nil, err
	}
	vars := map[string]string{"name": c.Username, "username": c.Username, "password": password}
	if err := execStatements(ctx, p, stmts, vars); err != nil {
		return nil, dbError("failed to update user", err)
	}
	c.Password = password
	if err := b.commitRotation(ctx, journalRoot, name, "config/"+name, c); err != nil {
		b.closePool(name)
		return nil, err
	}
	b.closePool(name)
	return &logical.Response{NoContent: true}, nil
}

// reset closes the config's connection pool and reconnects.
func (b *backend) reset(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.String("name")
	b.closePool(name)
	if _, _, err := b.pool(ctx, name); err != nil {
		return nil, err
	}
	return &logical.Response{NoContent: true}, nil
}
