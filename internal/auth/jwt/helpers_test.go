package jwt

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/logical/logicaltest"
	"github.com/cofferdev/coffer/internal/oidctest"
)

// harness is a backend over in-memory storage with an oidctest provider
// and a settable clock.
type harness struct {
	*logicaltest.Harness
	t  testing.TB
	b  *Backend
	p  *oidctest.Provider
	ms *logicaltest.Clock
}

func newHarness(t testing.TB, popts oidctest.Options) *harness {
	t.Helper()
	if popts.Users == nil {
		popts.Users = map[string]oidctest.User{
			"alice": {Password: "correct horse", Claims: map[string]any{
				"email": "alice@example.com", "groups": []any{"eng", "ops"}, "name": "Alice"}},
		}
	}
	h := &harness{Harness: logicaltest.New(t, "auth/jwt/"), t: t, p: oidctest.Start(t, popts),
		ms: logicaltest.NewClock(time.Now())}
	b, err := New(context.Background(), h.Config(), Options{Now: h.ms.Now})
	if err != nil {
		t.Fatal(err)
	}
	h.b, h.Backend = b, b
	return h
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
	h.Must(logical.UpdateOperation, "config", data)
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
	h.Must(logical.UpdateOperation, "role/"+name, data)
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
	resp, err := h.Do(logical.UpdateOperation, "login", map[string]any{"role": role, "jwt": tok})
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
