package token

import (
	"context"

	"github.com/cofferdev/coffer/internal/logical"
)

func (b *backend) lookupPaths() []*logical.Path {
	return []*logical.Path{
		{
			Pattern: "lookup",
			Fields: map[string]*logical.Field{
				"token": {Type: logical.TypeString, Description: "Token to look up; the caller's when empty."},
			},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleLookup},
			Help:       "Look up a token's properties.",
		},
		{
			Pattern: "lookup-self",
			Operations: map[logical.Operation]logical.Handler{
				logical.ReadOperation:   b.handleLookupSelf,
				logical.UpdateOperation: b.handleLookupSelf,
			},
			Help: "Look up the calling token's properties.",
		},
		{
			Pattern: "lookup-accessor",
			Fields: map[string]*logical.Field{
				"accessor": {Type: logical.TypeString, Description: "Accessor of the token to look up."},
			},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleLookupAccessor},
			Help:       "Look up a token's properties by its accessor.",
		},
	}
}

// handleLookup answers POST auth/token/lookup. Like Vault it shows tokens
// whose last use is being served, and answers 403 "bad token" otherwise.
func (b *backend) handleLookup(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if err := requireCaller(req); err != nil {
		return nil, err
	}
	raw := d.String("token")
	if raw == "" {
		return b.handleLookupSelf(ctx, req, d)
	}
	e, err := b.lookupRaw(ctx, raw, true)
	if err != nil {
		return nil, notFound(err, logical.KindPermissionDenied, msgBadToken)
	}
	return logical.DataResponse(b.lookupData(e, raw)), nil
}

func (b *backend) handleLookupSelf(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	if err := requireCaller(req); err != nil {
		return nil, err
	}
	e, raw, err := b.callerEntry(ctx, req, true)
	if err != nil {
		return nil, notFound(err, logical.KindPermissionDenied, msgBadToken)
	}
	return logical.DataResponse(b.lookupData(e, raw)), nil
}

func (b *backend) handleLookupAccessor(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if err := requireCaller(req); err != nil {
		return nil, err
	}
	acc := d.String("accessor")
	if acc == "" {
		return nil, errorf(msgMissingAccessor)
	}
	e, err := b.store.lookupAccessor(ctx, acc, true)
	if err != nil {
		return nil, notFound(err, logical.KindInvalidRequest, msgInvalidAccessor)
	}
	return logical.DataResponse(b.lookupData(e, "")), nil
}
