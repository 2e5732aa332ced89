package jwt

import (
	"context"
	"crypto/subtle"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cofferdev/coffer/internal/logical"
)

func (b *Backend) authURLPath() *logical.Path {
	return &logical.Path{
		Pattern: `oidc/auth_url`,
		Fields: map[string]*logical.Field{
			"role":         {Type: logical.TypeString},
			"redirect_uri": {Type: logical.TypeString},
			"client_nonce": {Type: logical.TypeString},
		},
		Operations:      map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleAuthURL},
		Unauthenticated: true,
		LoginIdentifier: "role",
		// The pending login lives in the memory of the node that answers
		// (see stateStore): the active node, so the callback finds it.
		Standby: logical.StandbyForward,
		Help:    "Start an OIDC login: returns the provider's authorization URL.",
	}
}

func (b *Backend) callbackPath() *logical.Path {
	return &logical.Path{
		Pattern: `oidc/callback`,
		Fields: map[string]*logical.Field{
			"state":        {Type: logical.TypeString},
			"code":         {Type: logical.TypeString},
			"id_token":     {Type: logical.TypeString},
			"client_nonce": {Type: logical.TypeString},
		},
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   b.handleCallback,
			logical.UpdateOperation: b.handleCallback,
		},
		Unauthenticated: true,
		// The pending login is in the active node's memory, and the code
		// exchange at the provider (single use) happens before any
		// storage write, so a standby must not try it.
		Standby: logical.StandbyForward,
		Help:    "Finish an OIDC login with the provider's code (or form_post id_token).",
	}
}

// oidcVerifier returns the verifier if the config allows the OIDC flow.
func (b *Backend) oidcVerifier(ctx context.Context, req *logical.Request) (*verifier, error) {
	ver, err := b.verifierFor(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if ver.provider == nil || ver.cfg.OIDCClientID == "" {
		return nil, logical.InvalidRequest("the OIDC flow needs oidc_discovery_url and oidc_client_id in the config")
	}
	return ver, nil
}

func (b *Backend) handleAuthURL(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	ver, err := b.oidcVerifier(ctx, req)
	if err != nil {
		return nil, err
	}
	name, r, err := b.loginRole(ctx, req, d.String("role"), ver)
	if err != nil {
		return nil, err
	}
	if r.RoleType != roleTypeOIDC {
		return nil, logical.InvalidRequest("role %q is not an oidc role", name)
	}
	redirect := d.String("redirect_uri")
	if redirect == "" {
		return nil, logical.InvalidRequest("missing redirect_uri")
	}
	if !validRedirect(redirect, r.AllowedRedirectURIs) {
		return nil, logical.InvalidRequest("unauthorized redirect_uri: %s", redirect)
	}
	p := &pending{role: name, redirectURI: redirect, nonce: randomString(),
		verifier: oauth2.GenerateVerifier(), clientNonce: d.String("client_nonce")}
	state, err := b.states.add(p)
	if err != nil {
		return nil, err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(p.nonce), oauth2.S256ChallengeOption(p.verifier)}
	if r.MaxAge > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.FormatInt(r.MaxAge, 10)))
	}
	if m := ver.cfg.OIDCResponseMode; m != "" {
		opts = append(opts, oauth2.SetAuthURLParam("response_mode", m))
	}
	if t := ver.cfg.OIDCResponseTypes; len(t) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("response_type", strings.Join(t, " ")))
	}
	authURL := ver.oauth2Config(r, redirect).AuthCodeURL(state, opts...)
	return logical.DataResponse(map[string]any{"auth_url": authURL}), nil
}

// oauth2Config is the OAuth client for one role and redirect URI.
func (v *verifier) oauth2Config(r *role, redirect string) *oauth2.Config {
	scopes := []string{oidc.ScopeOpenID}
	for _, s := range r.OIDCScopes {
		if s != oidc.ScopeOpenID && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return &oauth2.Config{
		ClientID:     v.cfg.OIDCClientID,
		ClientSecret: v.cfg.OIDCClientSecret,
		Endpoint:     v.provider.Endpoint(),
		RedirectURL:  redirect,
		Scopes:       scopes,
	}
}

func (b *Backend) handleCallback(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	st := b.states.take(d.String("state"))
	if st == nil {
		return nil, logical.InvalidRequest("expired or missing OAuth state")
	}
	if st.clientNonce != "" && subtle.ConstantTimeCompare([]byte(st.clientNonce), []byte(d.String("client_nonce"))) != 1 {
		return nil, logical.InvalidRequest("invalid client_nonce")
	}
	ver, err := b.oidcVerifier(ctx, req)
	if err != nil {
		return nil, err
	}
	name, r, err := b.loginRole(ctx, req, st.role, ver)
	if err != nil {
		return nil, err
	}
	if r.RoleType != roleTypeOIDC || !validRedirect(st.redirectURI, r.AllowedRedirectURIs) {
		return nil, logical.InvalidRequest("role %q no longer allows this login", name)
	}
	raw, err := b.idToken(ctx, ver, r, st, d)
	if err != nil {
		return nil, err
	}
	claims, err := ver.verify(ctx, raw, true)
	if err != nil {
		return nil, err
	}
	opts := checkOptions{now: b.now(), issuer: ver.issuer, clientID: ver.cfg.OIDCClientID, nonce: st.nonce, oidc: true}
	if err := checkClaims(claims, r, opts); err != nil {
		return nil, err
	}
	id, err := extractIdentity(claims, r)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Auth: loginAuth(r, name, id)}, nil
}

// idToken exchanges the code (with the PKCE verifier) for an ID token, or
// takes the id_token a form_post response carried.
func (b *Backend) idToken(ctx context.Context, ver *verifier, r *role, st *pending, d *logical.FieldData) (string, error) {
	code := d.String("code")
	if code == "" {
		if raw := d.String("id_token"); raw != "" {
			return raw, nil
		}
		return "", logical.InvalidRequest("no code or id_token received")
	}
	xctx, cancel := context.WithTimeout(context.WithValue(ctx, oauth2.HTTPClient, ver.client), httpTimeout)
	defer cancel()
	tok, err := ver.oauth2Config(r, st.redirectURI).Exchange(xctx, code, oauth2.VerifierOption(st.verifier))
	if err != nil {
		return "", idTokenErr("the provider did not accept the code", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", logical.InvalidRequest("error exchanging oidc code: no id_token in the provider's response")
	}
	return raw, nil
}

// validRedirect reports whether uri is one of allowed. For loopback
// addresses the port is not compared (RFC 8252 §7.3), so a CLI may listen
// on any free port.
func validRedirect(uri string, allowed []string) bool {
	if slices.Contains(allowed, uri) {
		return true
	}
	u, err := url.Parse(uri)
	if err != nil || !isLoopback(u.Hostname()) {
		return false
	}
	for _, a := range allowed {
		au, err := url.Parse(a)
		if err != nil || !isLoopback(au.Hostname()) {
			continue
		}
		if au.Scheme == u.Scheme && au.Hostname() == u.Hostname() && au.Path == u.Path && au.RawQuery == u.RawQuery {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
