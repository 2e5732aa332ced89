// Package oidctest is a real OpenID Connect provider for tests: discovery,
// JWKS, an HTML login form, the authorization-code flow with PKCE (S256),
// userinfo, and minting of arbitrary signed JWTs, served on 127.0.0.1.
//
// It is a test helper: keys are generated per provider, everything lives in
// memory, and Start registers the server's shutdown with t.Cleanup.
package oidctest

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Default settings used when Options leaves them empty.
const (
	DefaultClientID     = "coffer-test-client"
	DefaultClientSecret = "coffer-test-secret"
	// DefaultTokenTTL is the lifetime of ID and access tokens the token
	// endpoint issues.
	DefaultTokenTTL = 5 * time.Minute
	// codeTTL is how long an authorization code may wait for its exchange.
	codeTTL = time.Minute
)

// Endpoint paths, relative to the issuer URL.
const (
	PathDiscovery = "/.well-known/openid-configuration"
	PathJWKS      = "/keys"
	PathAuthorize = "/authorize"
	PathToken     = "/token"
	PathUserinfo  = "/userinfo"
)

// User is an account of the provider: the password the login form checks
// and the claims its tokens carry. "sub" defaults to the user name.
type User struct {
	Password string
	Claims   map[string]any
}

// Options configure a provider. The zero value is valid.
type Options struct {
	// ClientID and ClientSecret are the one registered client's
	// credentials (DefaultClientID and DefaultClientSecret when empty).
	ClientID     string
	ClientSecret string
	// RedirectURIs, when non-empty, are the only redirect_uri values the
	// authorization endpoint accepts.
	RedirectURIs []string
	// Users maps user names to accounts.
	Users map[string]User
	// TLS serves HTTPS with httptest's self-signed certificate (see
	// CACertPEM); plain HTTP otherwise.
	TLS bool
	// Alg is the algorithm of the initial signing key (RS256 when empty).
	Alg jose.SignatureAlgorithm
	// TokenTTL is the lifetime of issued tokens (DefaultTokenTTL if zero).
	TokenTTL time.Duration
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Provider is a running OpenID provider.
type Provider struct {
	srv  *httptest.Server
	opts Options

	mu          sync.Mutex
	keys        []*signingKey // published in JWKS; keys[0] is the default
	users       map[string]User
	codes       map[string]*authCode
	access      map[string]string // access token → user name
	jwksFetches int
	logins      int
}

// Start runs a provider on 127.0.0.1 until the test ends.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.Alg == "" {
		opts.Alg = jose.RS256
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Provider{opts: opts, users: map[string]User{}, codes: map[string]*authCode{}, access: map[string]string{}}
	for name, u := range opts.Users {
		p.users[name] = u
	}
	k, err := newSigningKey(opts.Alg)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	p.keys = []*signingKey{k}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathDiscovery, p.serveDiscovery)
	mux.HandleFunc("GET "+PathJWKS, p.serveJWKS)
	mux.HandleFunc("GET "+PathAuthorize, p.serveAuthorizeForm)
	mux.HandleFunc("POST "+PathAuthorize, p.serveAuthorizeSubmit)
	mux.HandleFunc("POST "+PathToken, p.serveToken)
	mux.HandleFunc("GET "+PathUserinfo, p.serveUserinfo)
	p.srv = httptest.NewUnstartedServer(mux)
	// Clients that refuse the test certificate are expected; keep their
	// handshake errors out of the test output.
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if opts.TLS {
		p.srv.StartTLS()
	} else {
		p.srv.Start()
	}
	t.Cleanup(p.srv.Close)
	return p
}

// Issuer is the provider's issuer URL (its base URL, no trailing slash),
// which is also its discovery URL for oidc_discovery_url.
func (p *Provider) Issuer() string { return p.srv.URL }

// JWKSURL is the URL of the provider's JSON Web Key Set.
func (p *Provider) JWKSURL() string { return p.srv.URL + PathJWKS }

// ClientID is the registered client's id.
func (p *Provider) ClientID() string { return p.opts.ClientID }

// ClientSecret is the registered client's secret.
func (p *Provider) ClientSecret() string { return p.opts.ClientSecret }

// CACertPEM is the PEM of the certificate an HTTPS provider serves (empty
// for plain HTTP); pass it as oidc_discovery_ca_pem or jwks_ca_pem.
func (p *Provider) CACertPEM() string {
	c := p.srv.Certificate()
	if c == nil || !p.opts.TLS {
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

// SetUser adds or replaces a user.
func (p *Provider) SetUser(name string, u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[name] = u
}

// JWKSFetches counts the JWKS requests served so far.
func (p *Provider) JWKSFetches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jwksFetches
}

// Logins counts successful form logins so far.
func (p *Provider) Logins() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logins
}

func (p *Provider) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	algs := []string{}
	seen := map[string]bool{}
	for _, k := range p.keys {
		if !seen[string(k.alg)] {
			seen[string(k.alg)] = true
			algs = append(algs, string(k.alg))
		}
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.Issuer(),
		"authorization_endpoint":                p.Issuer() + PathAuthorize,
		"token_endpoint":                        p.Issuer() + PathToken,
		"userinfo_endpoint":                     p.Issuer() + PathUserinfo,
		"jwks_uri":                              p.JWKSURL(),
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": algs,
		"scopes_supported":                      []string{"openid", "profile", "email", "groups"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"grant_types_supported":                 []string{"authorization_code"},
	})
}

func (p *Provider) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	p.jwksFetches++
	set := jose.JSONWebKeySet{}
	for _, k := range p.keys {
		set.Keys = append(set.Keys, k.public())
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, set)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
