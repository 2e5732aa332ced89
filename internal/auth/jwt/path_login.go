package jwt

import (
	"context"

	"github.com/cofferdev/coffer/internal/auth/tokenutil"
	"github.com/cofferdev/coffer/internal/logical"
)

func (b *Backend) loginPath() *logical.Path {
	return &logical.Path{
		Pattern: `login`,
		Fields: map[string]*logical.Field{
			"role": {Type: logical.TypeString},
			"jwt":  {Type: logical.TypeString},
		},
		Operations:      map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleLogin},
		Unauthenticated: true,
		LoginIdentifier: "role",
		Help:            "Log in with a signed JWT.",
	}
}

// handleLogin verifies a JWT for a "jwt" role and returns the login's Auth.
func (b *Backend) handleLogin(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	raw := d.String("jwt")
	if raw == "" {
		return nil, logical.InvalidRequest("missing token")
	}
	ver, err := b.verifierFor(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	name, r, err := b.loginRole(ctx, req, d.String("role"), ver)
	if err != nil {
		return nil, err
	}
	if r.RoleType != roleTypeJWT {
		return nil, logical.InvalidRequest("role with oidc role_type is not allowed")
	}
	claims, err := ver.verify(ctx, raw, false)
	if err != nil {
		return nil, err
	}
	if err := checkClaims(claims, r, checkOptions{now: b.now(), issuer: ver.issuer}); err != nil {
		return nil, err
	}
	id, err := extractIdentity(claims, r)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Auth: loginAuth(r, name, id)}, nil
}

// loginRole loads the named role (or the default role) and checks the
// client's address against its token_bound_cidrs.
func (b *Backend) loginRole(ctx context.Context, req *logical.Request, name string, ver *verifier) (string, *role, error) {
	if name == "" {
		name = ver.cfg.DefaultRole
	}
	if name == "" {
		return "", nil, logical.InvalidRequest("missing role")
	}
	r, err := loadRole(ctx, req.Storage, name)
	if err != nil {
		return "", nil, err
	}
	if r == nil {
		return "", nil, logical.InvalidRequest("role %q could not be found", name)
	}
	if !tokenutil.ContainsAddr(r.Token.BoundCIDRs, req.RemoteAddr) {
		return "", nil, logical.ErrPermissionDenied
	}
	return name, r, nil
}

// RenewAuth implements logical.AuthRenewer: before a token is renewed,
// the role must still exist, with the policies the token has (the identity provider is not asked again).
func (b *Backend) RenewAuth(ctx context.Context, req *logical.Request, token *logical.Auth) (*logical.Auth, error) {
	return tokenutil.RenewLogin(token, "role", "role", func(name string) (*tokenutil.Params, error) {
		r, err := loadRole(ctx, req.Storage, name)
		if r == nil || err != nil {
			return nil, err
		}
		return &r.Token, nil
	})
}
