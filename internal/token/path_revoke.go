package token

import (
	"context"
	"errors"

	"github.com/cofferdev/coffer/internal/logical"
)

func (b *backend) revokePaths() []*logical.Path {
	tokenField := map[string]*logical.Field{
		"token": {Type: logical.TypeString, Description: "Token to revoke."},
	}
	return []*logical.Path{
		{
			Pattern:    "revoke",
			Fields:     tokenField,
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleRevoke},
			Help:       "Revoke a token and all its children.",
		},
		{
			Pattern:    "revoke-self",
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleRevokeSelf},
			Help:       "Revoke the calling token and all its children.",
		},
		{
			Pattern: "revoke-accessor",
			Fields: map[string]*logical.Field{
				"accessor": {Type: logical.TypeString, Description: "Accessor of the token to revoke."},
			},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleRevokeAccessor},
			Help:       "Revoke a token and all its children by the token's accessor.",
		},
		{
			Pattern:    "revoke-orphan",
			Fields:     tokenField,
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleRevokeOrphan},
			Help:       "Revoke a token, leaving its children as orphans (needs sudo).",
		},
	}
}

// handleRevoke revokes a token tree. As in Vault, an unknown token is not an
// error: the answer is 204 either way, which reveals nothing.
func (b *backend) handleRevoke(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if err := requireCaller(req); err != nil {
		return nil, err
	}
	raw := d.String("token")
	if raw == "" {
		return nil, errorf(msgMissingToken)
	}
	e, err := b.lookupRaw(ctx, raw, true)
	return b.revoke(ctx, e, err)
}

func (b *backend) handleRevokeSelf(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	if err := requireCaller(req); err != nil {
		return nil, err
	}
	e, _, err := b.callerEntry(ctx, req, true)
	return b.revoke(ctx, e, err)
}

func (b *backend) handleRevokeAccessor(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if err := requireCaller(req); err != nil {
		return nil, err
	}
	acc := d.String("accessor")
	if acc == "" {
		return nil, errorf(msgMissingAccessor)
	}
	e, err := b.store.lookupAccessor(ctx, acc, true)
	if errors.Is(err, ErrInvalidToken) {
		resp := &logical.Response{}
		resp.Warn("No token found with this accessor")
		return resp, nil
	}
	return b.revoke(ctx, e, err)
}

// revoke finishes the revoke paths: lookupErr is the error of finding e.
func (b *backend) revoke(ctx context.Context, e *Entry, lookupErr error) (*logical.Response, error) {
	switch {
	case errors.Is(lookupErr, ErrInvalidToken):
		return noContent(), nil
	case lookupErr != nil:
		return nil, internal(lookupErr)
	case e.Type == TypeBatch:
		return nil, errorf("batch tokens cannot be revoked")
	}
	if err := b.store.Revoke(ctx, e); err != nil {
		return nil, internal(err)
	}
	return noContent(), nil
}

func (b *backend) handleRevokeOrphan(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if err := requireSudo(req); err != nil {
		return nil, err
	}
	raw := d.String("token")
	if raw == "" {
		return nil, errorf(msgMissingToken)
	}
	e, err := b.lookupRaw(ctx, raw, true)
	if err != nil {
		return nil, notFound(err, logical.KindInvalidRequest, "token to revoke not found")
	}
	if e.Type == TypeBatch {
		return nil, errorf("batch tokens cannot be revoked")
	}
	if err := b.store.RevokeOrphan(ctx, e); err != nil {
		return nil, internal(err)
	}
	return noContent(), nil
}
