package userpass

import (
	"context"
	"strings"

	"github.com/cofferdev/coffer/internal/auth/tokenutil"
	"github.com/cofferdev/coffer/internal/logical"
)

// errInvalidCredentials is the one answer to every failed login, so a
// client cannot tell a wrong password from an unknown user.
var errInvalidCredentials = logical.InvalidRequest("invalid username or password")

func (b *Backend) loginPath() *logical.Path {
	return &logical.Path{
		Pattern: `login/` + usernamePattern,
		Fields: map[string]*logical.Field{
			"password": {Type: logical.TypeString, Description: "password of the user"},
		},
		Operations:      map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleLogin},
		Unauthenticated: true,
		LoginIdentifier: "username",
		Help:            "Log in with a username and password.",
	}
}

// LoginPath implements logical.LoginPather with the username lowercased, so
// the core's per-user lockout cannot be dodged by changing a name's case.
func (b *Backend) LoginPath(req *logical.Request) (bool, string) {
	unauth, user := b.Router.LoginPath(req)
	return unauth, strings.ToLower(user)
}

// handleLogin checks the password and returns the Auth the core turns into
// a token. An unknown user costs the same hash as a known one.
func (b *Backend) handleLogin(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s, err := storageOf(req)
	if err != nil {
		return nil, err
	}
	name := username(d)
	u, err := getUser(ctx, s, name)
	if err != nil {
		return nil, err
	}
	h := b.dummy
	if u != nil {
		h = u.Password
	}
	var ok bool
	if err := b.withHashSlot(ctx, func() { ok = h.verify(d.String("password")) }); err != nil {
		return nil, err
	}
	if u == nil || !ok {
		b.logger.Debug("userpass login refused", "mount", req.MountPoint, "username", name, "known", u != nil)
		return nil, errInvalidCredentials
	}
	if !tokenutil.ContainsAddr(u.BoundCIDRs, req.RemoteAddr) {
		b.logger.Debug("userpass login refused: address outside token_bound_cidrs", "mount", req.MountPoint, "username", name)
		return nil, logical.ErrPermissionDenied
	}
	auth := u.Params.Auth()
	auth.DisplayName = name
	auth.Metadata = map[string]string{"username": name}
	auth.Alias = &logical.Alias{Name: name}
	return &logical.Response{Auth: auth}, nil
}

// RenewAuth implements logical.AuthRenewer: before a token is renewed,
// the user must still exist, with the policies the token has.
func (b *Backend) RenewAuth(ctx context.Context, req *logical.Request, token *logical.Auth) (*logical.Auth, error) {
	return tokenutil.RenewLogin(token, "user", "username", func(name string) (*tokenutil.Params, error) {
		u, err := getUser(ctx, req.Storage, strings.ToLower(name))
		if u == nil || err != nil {
			return nil, err
		}
		return &u.Params, nil
	})
}
