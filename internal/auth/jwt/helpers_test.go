package jwt

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/oidctest"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// harness is a backend over in-memory storage with an oidctest provider.
type harness struct {
	t  testing.TB
	b  *Backend
	s  *inmem.Backend
	p  *oidctest.Provider
	ms *clock
}

// clock is a settable test clock, safe for one goroutine at a time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newHarness(t testing.TB, popts oidctest.Options) *harness {
	t.Helper()
	if popts.Users == nil {
		popts.Users = map[string]oidctest.User{
			"alice": {Password: "correct horse", Claims: map[string]any{
				"email": "alice@example.com", "groups": []any{"eng", "ops"}, "name": "Alice"}},
		}
	}
	p := oidctest.Start(t, popts)
	ck := &clock{t: time.Now()}
	s := inmem.New()
	b, err := New(context.Background(), &logical.BackendConfig{Storage: s, MountPath: "auth/jwt/"}, Options{Now: func() time.Time { return ck.now() }})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, b: b, s: s, p: p, ms: ck}
}

// do sends one request and returns the response or error.
func (h *harness) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	req := &logical.Request{Operation: op, Path: path, Data: data, Storage: h.s, MountPoint: "auth/jwt/", RemoteAddr: "127.0.0.1"}
	return h.b.HandleRequest(context.Background(), req)
}

// must sends a request that has to succeed.
func (h *harness) must(op logical.Operation, path string, data map[string]any) *logical.Response {
	h.t.Helper()
	resp, err := h.do(op, path, data)
	if err != nil {
		h.t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

// discoveryConfig configures the method from the provider's discovery URL.
func (h *harness) discoveryConfig(extra map[string]any) {
	h.t.Helper()
	data := map[string]any{
		"oidc_discovery_url":    h.p.Issuer(),
		"oidc_discovery_ca_pem": h.p.CACertPEM(),
		"oidc_client_id":        h.p.ClientID(),
		"oidc_client_secret":    h.p.ClientSecret(),
	}
	for k, v := range extra {
		data[k] = v
	}
	h.must(logical.UpdateOperation, "config", data)
}

// jwtRole writes a "jwt" role named name.
func (h *harness) jwtRole(name string, extra map[string]any) {
	h.t.Helper()
	data := map[string]any{
		"role_type":       "jwt",
		"bound_audiences": "coffer",
		"user_claim":      "email",
		"groups_claim":    "groups",
		"claim_mappings":  map[string]any{"name": "display_name"},
		"token_policies":  "dev,read",
	}
	for k, v := range extra {
		data[k] = v
	}
	h.must(logical.UpdateOperation, "role/"+name, data)
}

// token mints a token with standard claims for alice plus extra.
func (h *harness) token(extra map[string]any) string {
	h.t.Helper()
	c := h.p.Claims("alice-sub", []string{"coffer"}, map[string]any{
		"email": "alice@example.com", "groups": []any{"eng", "ops"}, "name": "Alice"})
	for k, v := range extra {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	tok, err := h.p.Mint(c)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

func (h *harness) login(role, tok string) (*logical.Auth, error) {
	resp, err := h.do(logical.UpdateOperation, "login", map[string]any{"role": role, "jwt": tok})
	if err != nil {
		return nil, err
	}
	if resp == nil || resp.Auth == nil {
		return nil, errors.New("login returned no auth")
	}
	return resp.Auth, nil
}

// wantInvalid checks err is a 400-kind error containing want and none of
// the secrets.
func wantInvalid(t *testing.T, err error, want string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want error containing %q, got success", want)
	}
	if k := logical.KindOf(err); k != logical.KindInvalidRequest && k != logical.KindPermissionDenied {
		t.Fatalf("error kind %v (%v), want invalid request", k, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error %q leaks %q", err, s)
		}
	}
}
