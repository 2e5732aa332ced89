package token

import (
	"context"
	"fmt"

	"github.com/cofferdev/coffer/internal/logical"
)

func (b *backend) accessorsPath() *logical.Path {
	return &logical.Path{
		Pattern:    "accessors/?",
		Operations: map[logical.Operation]logical.Handler{logical.ListOperation: b.handleAccessors},
		Help:       "List token accessors (needs sudo).",
	}
}

func (b *backend) tidyPath() *logical.Path {
	return &logical.Path{
		Pattern:    "tidy",
		Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleTidy},
		Help:       "Remove dangling token index entries.",
	}
}

// handleAccessors lists accessors. Vault makes this path root-protected, so
// it needs sudo even when an ACL grants list.
func (b *backend) handleAccessors(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	if err := requireSudo(req); err != nil {
		return nil, err
	}
	keys, err := b.store.Accessors(ctx)
	if err != nil {
		return nil, internal(err)
	}
	return logical.ListResponse(keys), nil
}

// handleTidy runs the tidy synchronously (Vault starts it in the background
// and answers 202) and reports what it fixed as a warning, as Vault does.
func (b *backend) handleTidy(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	if err := requireCaller(req); err != nil {
		return nil, err
	}
	n, err := b.store.Tidy(ctx)
	if err != nil {
		return nil, internal(err)
	}
	resp := &logical.Response{}
	resp.Warn(fmt.Sprintf("Tidy operation completed: %d dangling token index entries removed.", n))
	return resp, nil
}
