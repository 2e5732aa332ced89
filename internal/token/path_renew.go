package token

import (
	"context"

	"github.com/cofferdev/coffer/internal/logical"
)

func incrementField() *logical.Field {
	return &logical.Field{Type: logical.TypeDuration, Description: "Requested TTL extension; 0 renews for the token's own TTL."}
}

func (b *backend) renewPaths() []*logical.Path {
	return []*logical.Path{
		{
			Pattern: "renew",
			Fields: map[string]*logical.Field{
				"token":     {Type: logical.TypeString, Description: "Token to renew."},
				"increment": incrementField(),
			},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleRenew},
			Help:       "Renew a token.",
		},
		{
			Pattern:    "renew-self",
			Fields:     map[string]*logical.Field{"increment": incrementField()},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleRenewSelf},
			Help:       "Renew the calling token.",
		},
		{
			Pattern: "renew-accessor",
			Fields: map[string]*logical.Field{
				"accessor":  {Type: logical.TypeString, Description: "Accessor of the token to renew."},
				"increment": incrementField(),
			},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleRenewAccessor},
			Help:       "Renew a token by its accessor.",
		},
	}
}

func (b *backend) handleRenew(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if err := requireCaller(req); err != nil {
		return nil, err
	}
	raw := d.String("token")
	if raw == "" {
		return nil, errorf(msgMissingToken)
	}
	e, err := b.lookupRaw(ctx, raw, false)
	if err != nil {
		return nil, notFound(err, logical.KindInvalidRequest, msgTokenNotFound)
	}
	return b.renew(ctx, e, raw, d)
}

func (b *backend) handleRenewSelf(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if err := requireCaller(req); err != nil {
		return nil, err
	}
	e, raw, err := b.callerEntry(ctx, req, false)
	if err != nil {
		return nil, notFound(err, logical.KindInvalidRequest, msgTokenNotFound)
	}
	return b.renew(ctx, e, raw, d)
}

func (b *backend) handleRenewAccessor(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if err := requireCaller(req); err != nil {
		return nil, err
	}
	acc := d.String("accessor")
	if acc == "" {
		return nil, errorf(msgMissingAccessor)
	}
	e, err := b.store.LookupAccessor(ctx, acc)
	if err != nil {
		return nil, notFound(err, logical.KindInvalidRequest, msgInvalidAccessor)
	}
	return b.renew(ctx, e, "", d)
}

// renew renews e and answers with Vault's auth block; raw is echoed as
// client_token ("" when the caller named the token by accessor).
func (b *backend) renew(ctx context.Context, e *Entry, raw string, d *logical.FieldData) (*logical.Response, error) {
	if e.Type == TypeBatch {
		return nil, errorf("batch tokens cannot be renewed")
	}
	renewed, err := b.store.Renew(ctx, e, d.Duration("increment"))
	if err != nil {
		return nil, storeError(err)
	}
	return authResponse(raw, renewed, b.remaining(renewed)), nil
}
