package approle

import (
	"context"
	"maps"
	"strings"

	"github.com/cofferdev/coffer/internal/auth/tokenutil"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

func (b *Backend) loginPath() *logical.Path {
	return &logical.Path{
		Pattern: `login`,
		Fields: map[string]*logical.Field{
			"role_id":   {Type: logical.TypeString, Description: "the role's role ID"},
			"secret_id": {Type: logical.TypeString, Description: "a secret ID of the role"},
		},
		Operations:      map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleLogin},
		Unauthenticated: true,
		LoginIdentifier: "role_id",
		Help:            "Exchange a role ID and secret ID for a token.",
	}
}

// handleLogin checks the role ID and, if the role binds one, consumes one
// use of the secret ID, then returns the Auth the core turns into a token.
func (b *Backend) handleLogin(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s, err := storageOf(req)
	if err != nil {
		return nil, err
	}
	roleID := d.String("role_id")
	if roleID == "" {
		return nil, logical.InvalidRequest("missing role_id")
	}
	r, err := b.roleByID(ctx, s, roleID)
	if err != nil {
		return nil, err
	}
	if r == nil {
		b.logger.Debug("approle login refused: unknown role id", "mount", req.MountPoint)
		return nil, errInvalidCredentials
	}
	if !tokenutil.ContainsAddr(r.SecretIDBoundCIDRs, req.RemoteAddr) {
		b.logger.Debug("approle login refused: address outside secret_id_bound_cidrs", "mount", req.MountPoint, "role", r.Name)
		return nil, errInvalidCredentials
	}
	meta := map[string]string{}
	tokenCIDRs := r.BoundCIDRs
	if r.BindSecretID {
		secret := d.String("secret_id")
		if secret == "" {
			return nil, logical.InvalidRequest("missing secret_id")
		}
		e, err := b.consume(ctx, s, r, secret, req)
		if err != nil {
			return nil, err
		}
		maps.Copy(meta, e.Metadata)
		if len(e.TokenBoundCIDRs) > 0 {
			tokenCIDRs = e.TokenBoundCIDRs
		}
	}
	meta["role_name"] = r.Name
	auth := r.Params.Auth()
	auth.BoundCIDRs = tokenCIDRs
	auth.Metadata = meta
	auth.Alias = &logical.Alias{Name: r.RoleID, Metadata: maps.Clone(meta)}
	return &logical.Response{Auth: auth}, nil
}

// roleByID finds the role a role ID belongs to; unknown is (nil, nil).
func (b *Backend) roleByID(ctx context.Context, s storage.Backend, roleID string) (*role, error) {
	h, err := b.hash(ctx, s, labelRoleID, roleID)
	if err != nil {
		return nil, err
	}
	var idx roleIDEntry
	found, err := getJSON(ctx, s, roleIDPrefix+h, &idx)
	if err != nil || !found {
		return nil, err
	}
	r, err := getRole(ctx, s, idx.Name)
	if err != nil || r == nil {
		return nil, err
	}
	// The index and the role are written together, but check the role
	// still carries this role ID rather than trust the index alone.
	if r.RoleID != roleID {
		return nil, nil
	}
	return r, nil
}

// consume checks secret against the role and uses it once, under the
// secret ID's lock so concurrent logins cannot overspend its uses. An
// expired secret ID is deleted. A login from outside the secret ID's
// cidr_list is refused before a use is spent.
func (b *Backend) consume(ctx context.Context, s storage.Backend, r *role, secret string, req *logical.Request) (*secretID, error) {
	h, err := b.hash(ctx, s, labelSecretID, secret)
	if err != nil {
		return nil, err
	}
	mu := stripe(&b.secretLocks, h)
	mu.Lock()
	defer mu.Unlock()
	e, err := getSecretID(ctx, s, r.UID, h)
	if err != nil {
		return nil, err
	}
	switch {
	case e == nil:
		b.logger.Debug("approle login refused: unknown secret id", "mount", req.MountPoint, "role", r.Name)
		return nil, errInvalidCredentials
	case e.expired(b.now()):
		b.logger.Debug("approle login refused: expired secret id", "mount", req.MountPoint, "role", r.Name, "accessor", e.Accessor)
		if err := b.deleteSecretID(ctx, s, r.UID, h, e); err != nil {
			return nil, err
		}
		return nil, errInvalidCredentials
	case !tokenutil.ContainsAddr(e.CIDRList, req.RemoteAddr):
		b.logger.Debug("approle login refused: address outside cidr_list", "mount", req.MountPoint, "role", r.Name, "accessor", e.Accessor)
		return nil, errInvalidCredentials
	}
	switch e.NumUses {
	case 0:
		return e, nil
	case 1:
		return e, b.deleteSecretID(ctx, s, r.UID, h, e)
	}
	e.NumUses--
	e.LastUpdatedTime = b.now().UTC()
	op, err := putOp(secretIDKey(r.UID, h), e)
	if err != nil {
		return nil, err
	}
	return e, commit(ctx, s, op)
}

// RenewAuth implements logical.AuthRenewer: before a token is renewed,
// the role must still exist, with the policies the token has.
func (b *Backend) RenewAuth(ctx context.Context, req *logical.Request, token *logical.Auth) (*logical.Auth, error) {
	return tokenutil.RenewLogin(token, "role", "role_name", func(name string) (*tokenutil.Params, error) {
		r, err := getRole(ctx, req.Storage, strings.ToLower(name))
		if r == nil || err != nil {
			return nil, err
		}
		return &r.Params, nil
	})
}
