package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cofferdev/coffer/internal/engine/cubbyhole"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/token"
)

// wrappedKey is the cubbyhole key of a wrapping token that holds the
// wrapped response.
const wrappedKey = "response"

// maxWrapTTL bounds how long a wrapped response may live.
const maxWrapTTL = 768 * time.Hour

// wrappedResponse is the stored form of a wrapped response.
type wrappedResponse struct {
	Data         map[string]any  `json:"data,omitempty"`
	Auth         *logical.Auth   `json:"auth,omitempty"`
	Warnings     []string        `json:"warnings,omitempty"`
	Secret       *logical.Secret `json:"secret,omitempty"`
	CreationPath string          `json:"creation_path"`
	CreationTime time.Time       `json:"creation_time"`
	TTL          time.Duration   `json:"ttl"`
}

// wrapResponse stores resp in the cubbyhole of a new single-use token and
// returns a response that carries only that token.
func (c *Core) wrapResponse(ctx context.Context, st *unsealedState, req *logical.Request, resp *logical.Response) (*logical.Response, error) {
	ttl := req.WrapTTL
	if ttl > maxWrapTTL {
		return nil, logical.InvalidRequest("wrap TTL %s exceeds the maximum of %s", ttl, maxWrapTTL)
	}
	w := &wrappedResponse{Data: resp.Data, Auth: resp.Auth, Warnings: resp.Warnings, Secret: resp.Secret,
		CreationPath: req.Path, CreationTime: c.now().UTC().Truncate(time.Second), TTL: ttl}
	return c.storeWrapped(ctx, st, w, resp)
}

func (c *Core) storeWrapped(ctx context.Context, st *unsealedState, w *wrappedResponse, orig *logical.Response) (*logical.Response, error) {
	raw, te, err := st.tokens.Create(ctx, token.CreateParams{
		Policies: []string{responseWrappingPolicy}, NoDefaultPolicy: true, NumUses: 1,
		TTL: w.TTL, Orphan: true, Path: w.CreationPath, DisplayName: "response-wrapping",
	})
	if err != nil {
		return nil, fmt.Errorf("core: create wrapping token: %w", err)
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	cm := st.mounts.get("cubbyhole/")
	key := cubbyhole.Prefix(te.CubbyholeID) + wrappedKey
	if err := cm.view.Put(ctx, &storage.Entry{Key: key, Value: b}); err != nil {
		_ = st.tokens.Revoke(ctx, te)
		return nil, fmt.Errorf("core: store wrapped response: %w", err)
	}
	info := &logical.WrapInfo{Token: raw, Accessor: te.Accessor, TTL: w.TTL,
		CreationTime: w.CreationTime, CreationPath: w.CreationPath}
	if orig != nil && orig.Auth != nil {
		info.WrappedAccessor = orig.Auth.Accessor
	}
	return &logical.Response{WrapInfo: info}, nil
}

// readWrapped loads the response held in a wrapping token's cubbyhole.
func (c *Core) readWrapped(ctx context.Context, st *unsealedState, cubbyholeID string) (*wrappedResponse, error) {
	cm := st.mounts.get("cubbyhole/")
	e, err := cm.view.Get(ctx, cubbyhole.Prefix(cubbyholeID)+wrappedKey)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, logical.InvalidRequest("wrapping token holds no response")
	}
	if err != nil {
		return nil, err
	}
	var w wrappedResponse
	if err := json.Unmarshal(e.Value, &w); err != nil {
		return nil, fmt.Errorf("core: corrupt wrapped response: %w", err)
	}
	return &w, nil
}

// wrappingTokenFor resolves the wrapping token a wrapping endpoint acts on:
// the "token" field if given, else the caller's own token. The caller's own
// wrapping token has already spent its single use in the pipeline (so two
// concurrent unwraps cannot both succeed) and is revoked after this request;
// it is described by req.Caller. A token named in the body is revoked here.
func (c *Core) wrappingTokenFor(ctx context.Context, st *unsealedState, req *logical.Request, d *logical.FieldData) (cubbyholeID string, revoke func() error, err error) {
	raw := d.String("token")
	if raw == "" {
		if req.Caller == nil || len(req.Caller.Policies) != 1 || req.Caller.Policies[0] != responseWrappingPolicy {
			return "", nil, logical.InvalidRequest("wrapping token is not valid or does not exist")
		}
		return req.Caller.CubbyholeID, func() error { return nil }, nil
	}
	te, err := st.tokens.Lookup(ctx, raw)
	if err != nil || !isWrappingToken(te) {
		return "", nil, logical.InvalidRequest("wrapping token is not valid or does not exist")
	}
	// Spend the single use first, so a concurrent unwrap of the same token fails.
	if _, err := st.tokens.Use(ctx, te); err != nil {
		return "", nil, logical.InvalidRequest("wrapping token is not valid or does not exist")
	}
	return te.CubbyholeID, func() error { return st.tokens.Revoke(ctx, te) }, nil
}

func (c *Core) wrappingPaths(st *unsealedState) []*logical.Path {
	tokenField := map[string]*logical.Field{"token": {Type: logical.TypeString}}
	return []*logical.Path{
		{Pattern: "wrapping/wrap", Fields: map[string]*logical.Field{},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				if req.WrapTTL == 0 {
					return nil, logical.InvalidRequest("wrapping requested but no TTL given: set the X-Vault-Wrap-TTL header")
				}
				if len(req.Data) == 0 {
					return nil, logical.InvalidRequest("no data provided to wrap")
				}
				return &logical.Response{Data: req.Data}, nil
			}}},
		{Pattern: "wrapping/unwrap", Fields: tokenField,
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				id, revoke, err := c.wrappingTokenFor(ctx, st, req, d)
				if err != nil {
					return nil, err
				}
				w, err := c.readWrapped(ctx, st, id)
				if err != nil {
					return nil, err
				}
				if err := revoke(); err != nil {
					return nil, err
				}
				return &logical.Response{Data: w.Data, Auth: w.Auth, Warnings: w.Warnings, Secret: w.Secret}, nil
			}}},
		{Pattern: "wrapping/lookup", Fields: tokenField,
			Operations: map[logical.Operation]logical.Handler{
				logical.UpdateOperation: c.handleWrapLookup(st), logical.ReadOperation: c.handleWrapLookup(st)}},
		{Pattern: "wrapping/rewrap", Fields: tokenField,
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				id, revoke, err := c.wrappingTokenFor(ctx, st, req, d)
				if err != nil {
					return nil, err
				}
				w, err := c.readWrapped(ctx, st, id)
				if err != nil {
					return nil, err
				}
				w.CreationTime = c.now().UTC().Truncate(time.Second)
				resp, err := c.storeWrapped(ctx, st, w, nil)
				if err != nil {
					return nil, err
				}
				if err := revoke(); err != nil {
					return nil, err
				}
				return resp, nil
			}}},
	}
}

func (c *Core) handleWrapLookup(st *unsealedState) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		raw := d.String("token")
		if raw == "" {
			return nil, logical.InvalidRequest("missing \"token\"")
		}
		te, err := st.tokens.Lookup(ctx, raw)
		if err != nil || !isWrappingToken(te) {
			return nil, logical.InvalidRequest("wrapping token is not valid or does not exist")
		}
		w, err := c.readWrapped(ctx, st, te.CubbyholeID)
		if err != nil {
			return nil, err
		}
		return &logical.Response{Data: map[string]any{
			"creation_path": w.CreationPath,
			"creation_time": w.CreationTime.Format(time.RFC3339Nano),
			"creation_ttl":  int64(w.TTL / time.Second),
		}}, nil
	}
}
