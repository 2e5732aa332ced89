package core

import (
	"context"
	"errors"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/identity"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/token"
)

// Token types an auth mount may be tuned to, as Vault's token_type.
const (
	mountTokenDefaultService = "default-service"
	mountTokenDefaultBatch   = "default-batch"
	mountTokenService        = "service"
	mountTokenBatch          = "batch"
)

// loginPath reports whether breq, routed to mount m, is an auth method's
// login (served without a token) and whom the attempt is for.
func loginPath(m *MountEntry, breq *logical.Request) (bool, string) {
	if m.Table != tableAuth || m.Type == "token" {
		return false, ""
	}
	lp, ok := m.backend.(logical.LoginPather)
	if !ok {
		return false, ""
	}
	return lp.LoginPath(breq)
}

// runLogin calls an auth method's login path under the network guard: a
// locked-out user or banned address is refused before the method runs, and
// every credential failure is counted. A successful login's Auth becomes a
// token.
func (c *Core) runLogin(ctx context.Context, st *unsealedState, m *MountEntry, req, breq *logical.Request, user string) (*logical.Response, error) {
	ip, _ := netip.ParseAddr(req.RemoteAddr)
	if c.network != nil {
		if err := c.network.CheckLogin(m.Accessor, user, ip); err != nil {
			c.logger.Info("core: login refused by lockout or ban", "mount", m.Path, "remote", req.RemoteAddr)
			return nil, logical.ErrPermissionDenied
		}
	}
	resp, err := m.backend.HandleRequest(ctx, breq)
	if c.network != nil {
		switch {
		case err == nil && resp != nil && resp.Auth != nil:
			c.network.RecordLogin(m.Accessor, user, ip, true)
		case err != nil && isCredentialFailure(err):
			c.network.RecordLogin(m.Accessor, user, ip, false)
		}
	}
	if err != nil || resp == nil || resp.Auth == nil {
		return resp, err
	}
	if err := c.issueLoginToken(ctx, st, m, req, resp.Auth); err != nil {
		return nil, err
	}
	return resp, nil
}

// isCredentialFailure tells a refused login from a server fault: only the
// former counts toward lockouts and bans.
func isCredentialFailure(err error) bool {
	k := logical.KindOf(err)
	return k == logical.KindPermissionDenied || k == logical.KindInvalidRequest
}

// issueLoginToken maps a login's alias to an identity entity and creates its
// token, then fills in what the client sees.
func (c *Core) issueLoginToken(ctx context.Context, st *unsealedState, m *MountEntry, req *logical.Request, a *logical.Auth) error {
	var identityPolicies []string
	if a.Alias != nil && st.identity != nil {
		entityID, err := st.identity.Login(ctx, m.Accessor, a.Alias, a.GroupAliases)
		if err != nil {
			return loginIdentityError(err)
		}
		if identityPolicies, err = st.identity.Policies(ctx, entityID); err != nil {
			return loginIdentityError(err)
		}
		a.EntityID = entityID
	}
	typ, err := loginTokenType(m.Config.TokenType, a.TokenType)
	if err != nil {
		return err
	}
	params := token.CreateParams{
		Policies: a.Policies, NoDefaultPolicy: a.NoDefaultPolicy, Meta: a.Metadata,
		DisplayName: loginDisplayName(m, a.DisplayName), NumUses: a.NumUses,
		TTL: a.TTL, Period: a.Period, ExplicitMaxTTL: loginMaxTTL(m, a),
		Renewable: &a.Renewable, BoundCIDRs: a.BoundCIDRs, Path: req.Path,
		EntityID: a.EntityID, Orphan: true, Type: typ,
	}
	if params.TTL == 0 && params.Period == 0 {
		params.TTL = m.sys.DefaultLeaseTTL()
	}
	raw, te, err := st.tokens.Create(ctx, params)
	if err != nil {
		if errors.Is(err, token.ErrInvalidParams) {
			return logical.InvalidRequest("%v", err)
		}
		return err
	}
	a.ClientToken, a.Accessor, a.TokenType = raw, te.Accessor, te.Type
	a.TokenPolicies = te.Policies
	a.IdentityPolicies = identityPolicies
	a.Policies = unionPolicies(te.Policies, identityPolicies)
	a.TTL, a.Orphan = te.TTL, true
	if a.Metadata == nil {
		a.Metadata = map[string]string{}
	}
	return nil
}

func loginIdentityError(err error) error {
	if errors.Is(err, identity.ErrEntityDisabled) {
		return logical.ErrPermissionDenied
	}
	return err
}

// loginTokenType resolves the token type from the mount's tuning and the
// role's request, as Vault does: "service" and "batch" force the type, the
// default-* settings give way to a role that names one.
func loginTokenType(mount, role string) (string, error) {
	if role == "default" {
		role = ""
	}
	switch mount {
	case mountTokenService, mountTokenBatch:
		if role != "" && role != mount {
			return "", logical.InvalidRequest("the role asks for a %s token but the mount issues only %s tokens", role, mount)
		}
		return mount, nil
	case mountTokenDefaultBatch:
		if role == "" {
			return mountTokenBatch, nil
		}
	}
	if role == "" {
		return mountTokenService, nil
	}
	return role, nil
}

// connectionKey carries, in a request's context, the client connection
// (its certificates) of the request being handled, so a renewal it causes
// can show the auth method who asked for it.
type connectionKey struct{}

// withConnection notes req's client connection in ctx, if it has one.
func withConnection(ctx context.Context, req *logical.Request) context.Context {
	if req.Connection == nil {
		return ctx
	}
	return context.WithValue(ctx, connectionKey{}, req.Connection)
}

// loginRenewal asks the auth method a token's login went through whether
// the login still stands, before the token is renewed (token.Options.OnRenew),
// and returns the terms that login would get now. The method sees the
// client connection of the request that renews (a cert login's binding
// check needs its certificate). The token API is asked too, for tokens
// made against a token role. Tokens of methods that do not check again (no
// logical.AuthRenewer, or a nil answer) keep their own terms. A login
// token whose auth method is no longer mounted is not renewed.
func (c *Core) loginRenewal(ctx context.Context, st *unsealedState, e *token.Entry) (*token.RenewTerms, error) {
	if !strings.HasPrefix(e.Path, "auth/") {
		return nil, nil
	}
	m := st.mounts.route(e.Path)
	if m == nil || m.Table != tableAuth {
		return nil, logical.Errorf(logical.KindPermissionDenied, "the auth method this token logged in with is no longer mounted; log in again")
	}
	renewer, ok := m.backend.(logical.AuthRenewer)
	if !ok {
		return nil, nil
	}
	conn, _ := ctx.Value(connectionKey{}).(*logical.Connection)
	a, err := renewer.RenewAuth(ctx, &logical.Request{
		Operation: logical.UpdateOperation, Path: strings.TrimPrefix(e.Path, m.Path),
		MountPoint: m.Path, Storage: m.view, Connection: conn,
	}, &logical.Auth{
		Metadata: maps.Clone(e.Meta), DisplayName: e.DisplayName, EntityID: e.EntityID,
		Policies: slices.Clone(e.Policies), TokenPolicies: slices.Clone(e.Policies),
		TTL: e.TTL, Period: e.Period,
	})
	if err != nil {
		c.logger.Info("core: token renewal refused by its auth method", "mount", m.Path, "accessor", e.Accessor, "reason", err)
		return nil, err
	}
	if a == nil {
		return nil, nil
	}
	terms := &token.RenewTerms{TTL: a.TTL, Period: a.Period, MaxTTL: loginMaxTTL(m, a)}
	if terms.TTL == 0 && terms.Period == 0 {
		terms.TTL = m.sys.DefaultLeaseTTL()
	}
	return terms, nil
}

// loginMaxTTL caps a login token's life by the role's max TTLs and, unless
// it is periodic, by the auth mount's maximum.
func loginMaxTTL(m *MountEntry, a *logical.Auth) time.Duration {
	limit := a.ExplicitMaxTTL
	lower := func(d time.Duration) {
		if d > 0 && (limit == 0 || d < limit) {
			limit = d
		}
	}
	if a.Period == 0 {
		lower(a.MaxTTL)
		lower(m.sys.MaxLeaseTTL())
	}
	return limit
}

// loginDisplayName is "<mount path with dashes>-<name>", as Vault names
// login tokens ("userpass-alice").
func loginDisplayName(m *MountEntry, name string) string {
	base := strings.TrimSuffix(strings.ReplaceAll(strings.TrimPrefix(m.Path, "auth/"), "/", "-"), "-")
	if name == "" {
		return base
	}
	return base + "-" + name
}

// unionPolicies merges two sorted policy lists without duplicates.
func unionPolicies(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}
