package jwt

import (
	"slices"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/oidctest"
)

func TestConfigSecretNeverRead(t *testing.T) {
	h := newHarness(t, oidctest.Options{TLS: true})
	h.discoveryConfig(map[string]any{"default_role": "dev", "jwt_supported_algs": "RS256"})
	resp := h.Must(logical.ReadOperation, "config", nil)
	if _, ok := resp.Data["oidc_client_secret"]; ok {
		t.Fatal("config read returns oidc_client_secret")
	}
	for k, v := range resp.Data {
		if s, ok := v.(string); ok && strings.Contains(s, h.p.ClientSecret()) {
			t.Fatalf("config field %s holds the client secret", k)
		}
	}
	if resp.Data["oidc_client_id"] != h.p.ClientID() || resp.Data["default_role"] != "dev" {
		t.Fatalf("config read = %v", resp.Data)
	}
	c, err := loadConfig(t.Context(), h.Storage)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.String(); strings.Contains(s, h.p.ClientSecret()) {
		t.Fatalf("config prints its secret: %s", s)
	}
}

func TestConfigValidation(t *testing.T) {
	h := newHarness(t, oidctest.Options{TLS: true})
	pub, err := h.p.PublicKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data map[string]any
		want string
	}{
		{"no source", map[string]any{"bound_issuer": "x"}, "exactly one of"},
		{"two sources", map[string]any{"jwks_url": h.p.JWKSURL(), "jwt_validation_pubkeys": []any{pub}}, "exactly one of"},
		{"bad pem", map[string]any{"jwt_validation_pubkeys": []any{"not pem"}}, "not a PEM block"},
		{"symmetric alg", map[string]any{"jwt_validation_pubkeys": []any{pub}, "jwt_supported_algs": "HS256"}, "not a supported asymmetric"},
		{"client id without discovery", map[string]any{"jwt_validation_pubkeys": []any{pub}, "oidc_client_id": "x"}, "oidc_discovery_url"},
		{"untrusted TLS", map[string]any{"oidc_discovery_url": h.p.Issuer()}, "error checking oidc discovery URL"},
		{"unreachable jwks", map[string]any{"jwks_url": "http://127.0.0.1:1/keys"}, "error checking jwks_url"},
		{"bad CA", map[string]any{"jwks_url": h.p.JWKSURL(), "jwks_ca_pem": "junk"}, "could not parse jwks_ca_pem"},
		{"issuer mismatch", map[string]any{"oidc_discovery_url": h.p.Issuer(), "oidc_discovery_ca_pem": h.p.CACertPEM(), "bound_issuer": "https://other"}, "bound_issuer does not match"},
		{"bad response mode", map[string]any{"jwt_validation_pubkeys": []any{pub}, "oidc_response_mode": "fragment"}, "oidc_response_mode"},
		{"ok pubkeys", map[string]any{"jwt_validation_pubkeys": []any{pub}}, ""},
		{"ok jwks", map[string]any{"jwks_url": h.p.JWKSURL(), "jwks_ca_pem": h.p.CACertPEM()}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.Do(logical.UpdateOperation, "config", tc.data)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantInvalid(t, err, tc.want)
		})
	}
}

func TestRoleCRUD(t *testing.T) {
	h := newHarness(t, oidctest.Options{})
	h.discoveryConfig(nil)
	h.jwtRole("b-role", map[string]any{"clock_skew_leeway": "2m", "expiration_leeway": -1, "max_age": "1h",
		"bound_claims": map[string]any{"team": "x"}})
	h.jwtRole("a-role", map[string]any{"bound_claims": `{"team": ["x", "y"]}`})
	resp := h.Must(logical.ReadOperation, "role/b-role", nil)
	d := resp.Data
	if d["role_type"] != "jwt" || d["user_claim"] != "email" || d["clock_skew_leeway"] != int64(120) ||
		d["expiration_leeway"] != int64(-1) || d["max_age"] != int64(3600) || d["bound_claims_type"] != "string" {
		t.Fatalf("role read = %v", d)
	}
	if !slices.Equal(d["token_policies"].([]string), []string{"dev", "read"}) {
		t.Fatalf("token_policies = %v", d["token_policies"])
	}
	if bc := d["bound_claims"].(map[string]any); !slices.Equal(bc["team"].([]string), []string{"x"}) {
		t.Fatalf("bound_claims = %v", bc)
	}
	// An update changes only the fields sent.
	h.Must(logical.UpdateOperation, "role/b-role", map[string]any{"user_claim": "sub"})
	d = h.Must(logical.ReadOperation, "role/b-role", nil).Data
	if d["user_claim"] != "sub" || d["clock_skew_leeway"] != int64(120) {
		t.Fatalf("after update = %v", d)
	}
	a := h.Must(logical.ReadOperation, "role/a-role", nil).Data["bound_claims"].(map[string]any)
	if !slices.Equal(a["team"].([]string), []string{"x", "y"}) {
		t.Fatalf("bound_claims from a JSON string = %v", a)
	}
	list := h.Must(logical.ListOperation, "role/", nil)
	if !slices.Equal(list.Data["keys"].([]string), []string{"a-role", "b-role"}) {
		t.Fatalf("list = %v", list.Data)
	}
	h.Must(logical.DeleteOperation, "role/b-role", nil)
	if resp := h.Must(logical.ReadOperation, "role/b-role", nil); resp != nil {
		t.Fatalf("deleted role still reads: %v", resp.Data)
	}
}

func TestRoleValidation(t *testing.T) {
	h := newHarness(t, oidctest.Options{})
	tests := []struct {
		name string
		data map[string]any
		want string
	}{
		{"no user claim", map[string]any{"role_type": "jwt", "bound_audiences": "a"}, "user claim must be defined"},
		{"bad type", map[string]any{"role_type": "saml", "user_claim": "sub"}, "invalid 'role_type'"},
		{"oidc without redirects", map[string]any{"user_claim": "sub"}, "allowed_redirect_uris"},
		{"jwt without bounds", map[string]any{"role_type": "jwt", "user_claim": "sub"}, "at least one bound constraint"},
		{"bad claims type", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_audiences": "a", "bound_claims_type": "regex"}, "bound_claims_type"},
		{"bound claim not a string", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_claims": map[string]any{"a": map[string]any{}}}, "bound_claims"},
		{"bound claims not an object", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_claims": "[1]"}, "expected a JSON object"},
		{"duplicate mapping", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_audiences": "a", "claim_mappings": map[string]any{"x": "m", "y": "m"}}, "multiple keys"},
		{"bad leeway", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_audiences": "a", "clock_skew_leeway": -5}, "clock_skew_leeway"},
		{"bad token type", map[string]any{"role_type": "jwt", "user_claim": "sub", "bound_audiences": "a", "token_type": "weird"}, "token_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.Do(logical.UpdateOperation, "role/r", tc.data)
			wantInvalid(t, err, tc.want)
		})
	}
}

func TestLoginPaths(t *testing.T) {
	h := newHarness(t, oidctest.Options{})
	tests := []struct {
		path   string
		unauth bool
		user   string
	}{
		{"login", true, "dev"},
		{"oidc/auth_url", true, "dev"},
		{"oidc/callback", true, ""},
		{"role/dev", false, ""},
		{"config", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			unauth, user := h.b.LoginPath(&logical.Request{Path: tc.path, Data: map[string]any{"role": "dev"}})
			if unauth != tc.unauth || user != tc.user {
				t.Fatalf("LoginPath = %v %q, want %v %q", unauth, user, tc.unauth, tc.user)
			}
		})
	}
}
