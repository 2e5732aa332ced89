package jwt

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/oidctest"
)

func TestLoginSuccess(t *testing.T) {
	h := newHarness(t, oidctest.Options{TLS: true})
	h.discoveryConfig(nil)
	h.jwtRole("dev", nil)
	auth, err := h.login("dev", h.token(nil))
	if err != nil {
		t.Fatal(err)
	}
	if auth.Alias == nil || auth.Alias.Name != "alice@example.com" {
		t.Fatalf("alias = %+v, want alice@example.com", auth.Alias)
	}
	if auth.DisplayName != "alice@example.com" {
		t.Errorf("display name = %q", auth.DisplayName)
	}
	if !slices.Equal(auth.Policies, []string{"dev", "read"}) {
		t.Errorf("policies = %v", auth.Policies)
	}
	if auth.Metadata["role"] != "dev" || auth.Metadata["display_name"] != "Alice" {
		t.Errorf("metadata = %v", auth.Metadata)
	}
	if auth.Alias.Metadata["display_name"] != "Alice" {
		t.Errorf("alias metadata = %v", auth.Alias.Metadata)
	}
	var groups []string
	for _, g := range auth.GroupAliases {
		groups = append(groups, g.Name)
	}
	if !slices.Equal(groups, []string{"eng", "ops"}) {
		t.Errorf("group aliases = %v", groups)
	}
}

func TestLoginDefaultRole(t *testing.T) {
	h := newHarness(t, oidctest.Options{})
	h.discoveryConfig(map[string]any{"default_role": "dev"})
	h.jwtRole("dev", nil)
	if _, err := h.login("", h.token(nil)); err != nil {
		t.Fatalf("login with the default role: %v", err)
	}
}

// TestLoginRejections covers every check a token must pass.
func TestLoginRejections(t *testing.T) {
	h := newHarness(t, oidctest.Options{})
	h.discoveryConfig(map[string]any{"jwt_supported_algs": "RS256,EdDSA"})
	h.jwtRole("dev", map[string]any{"bound_claims": map[string]any{"team": []any{"platform", "sre"}}})
	h.jwtRole("subject", map[string]any{"bound_audiences": "", "bound_subject": "alice-sub"})
	h.jwtRole("noleeway", map[string]any{"clock_skew_leeway": -1, "expiration_leeway": -1, "not_before_leeway": -1})
	h.jwtRole("oidcrole", map[string]any{"role_type": "oidc", "allowed_redirect_uris": "http://127.0.0.1:8250/oidc/callback"})
	ok := map[string]any{"team": "platform"}
	with := func(m map[string]any) map[string]any {
		out := map[string]any{"team": "platform"}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	mint := func(claims map[string]any, o oidctest.MintOptions) string {
		c := h.p.Claims("alice-sub", []string{"coffer"}, map[string]any{"email": "alice@example.com", "groups": "eng", "team": "platform"})
		for k, v := range claims {
			c[k] = v
		}
		tok, err := h.p.MintWith(c, o)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	tests := []struct {
		name, role, token, want string
	}{
		{"valid", "dev", h.token(ok), ""},
		{"expired beyond leeway", "dev", h.token(with(map[string]any{"exp": now.Add(-10 * time.Minute).Unix()})), "token is expired"},
		{"expired within leeway", "dev", h.token(with(map[string]any{"exp": now.Add(-100 * time.Second).Unix()})), ""},
		{"expired without leeway", "noleeway", h.token(with(map[string]any{"exp": now.Add(-5 * time.Second).Unix()})), "token is expired"},
		{"missing exp", "dev", h.token(with(map[string]any{"exp": nil})), "missing expiration"},
		{"not yet valid", "dev", h.token(with(map[string]any{"nbf": now.Add(10 * time.Minute).Unix()})), "not valid yet"},
		{"nbf within leeway", "dev", h.token(with(map[string]any{"nbf": now.Add(100 * time.Second).Unix()})), ""},
		{"issued in the future", "dev", h.token(with(map[string]any{"iat": now.Add(10 * time.Minute).Unix()})), "issued in the future"},
		{"wrong audience", "dev", h.token(with(map[string]any{"aud": "someone-else"})), "invalid audience"},
		{"one of several audiences", "dev", h.token(with(map[string]any{"aud": []any{"x", "coffer"}})), ""},
		{"audience but none bound", "subject", h.token(nil), "no audiences bound"},
		{"wrong issuer", "dev", h.token(with(map[string]any{"iss": "https://evil.example.com"})), "invalid issuer"},
		{"missing issuer", "dev", h.token(with(map[string]any{"iss": nil})), "invalid issuer"},
		{"alg none", "dev", mint(nil, oidctest.MintOptions{Alg: oidctest.AlgNone}), "unsigned tokens"},
		{"alg not supported", "dev", mint(nil, oidctest.MintOptions{Alg: jose.ES256}), "signing algorithm is not allowed"},
		{"supported second alg", "dev", mint(nil, oidctest.MintOptions{Alg: jose.EdDSA}), ""},
		{"HS256 with a shared secret", "dev", mint(nil, oidctest.MintOptions{HMACSecret: []byte("0123456789abcdef0123456789abcdef")}), "signing algorithm is not allowed"},
		{"unknown kid", "dev", mint(nil, oidctest.MintOptions{KID: "no-such-key"}), "signature does not verify"},
		{"unpublished key", "dev", mint(nil, oidctest.MintOptions{Unpublished: true}), "signature does not verify"},
		{"tampered payload", "dev", tamper(h.token(ok)), "signature does not verify"},
		{"bound claim mismatch", "dev", h.token(with(map[string]any{"team": "sales"})), `claim "team" does not match`},
		{"bound claim missing", "dev", h.token(nil), `claim "team" is missing`},
		{"bound claim in a list", "dev", h.token(with(map[string]any{"team": []any{"sales", "sre"}})), ""},
		{"missing user claim", "dev", h.token(with(map[string]any{"email": nil})), `claim "email" not found`},
		{"user claim not a string", "dev", h.token(with(map[string]any{"email": map[string]any{"a": 1}})), "could not be converted"},
		{"bound subject", "subject", h.token(with(map[string]any{"aud": nil})), ""},
		{"wrong subject", "subject", h.token(with(map[string]any{"aud": nil, "sub": "mallory"})), "bound subject"},
		{"oidc role", "oidcrole", h.token(ok), "oidc role_type is not allowed"},
		{"unknown role", "nope", h.token(ok), `role "nope" could not be found`},
		{"not a JWS", "dev", "abc.def", "not a compact JWS"},
		{"garbage header", "dev", "!!!.e30.sig", "malformed header"},
		{"empty", "dev", "", "missing token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.login(tc.role, tc.token)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			wantInvalid(t, err, tc.want, tc.token, "alice@example.com", "platform", "someone-else", "evil.example.com")
		})
	}
}

// tamper changes one claim without re-signing.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	parts[1] = strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return r
	}, parts[1])
	if !strings.ContainsRune(parts[1], 'B') {
		parts[1] = "B" + parts[1][1:]
	}
	return strings.Join(parts, ".")
}

// TestKeyRotation: a token under a new key id logs in after one JWKS
// refetch; a token under the removed key no longer does.
func TestKeyRotation(t *testing.T) {
	for _, source := range []string{"discovery", "jwks_url"} {
		t.Run(source, func(t *testing.T) {
			h := newHarness(t, oidctest.Options{TLS: true})
			if source == "discovery" {
				h.discoveryConfig(nil)
			} else {
				h.Must(logical.UpdateOperation, "config", map[string]any{
					"jwks_url": h.p.JWKSURL(), "jwks_ca_pem": h.p.CACertPEM(), "bound_issuer": h.p.Issuer()})
			}
			h.jwtRole("dev", nil)
			old := h.token(nil)
			if _, err := h.login("dev", old); err != nil {
				t.Fatalf("before rotation: %v", err)
			}
			if _, err := h.p.RotateKey(); err != nil {
				t.Fatal(err)
			}
			before := h.p.JWKSFetches()
			if _, err := h.login("dev", h.token(nil)); err != nil {
				t.Fatalf("new key after rotation: %v", err)
			}
			if got := h.p.JWKSFetches() - before; got != 1 {
				t.Errorf("JWKS fetched %d times for one new kid, want 1", got)
			}
			before = h.p.JWKSFetches()
			if _, err := h.login("dev", h.token(nil)); err != nil {
				t.Fatalf("second login with the new key: %v", err)
			}
			if got := h.p.JWKSFetches() - before; got != 0 {
				t.Errorf("JWKS refetched %d times for a known kid, want 0", got)
			}
			_, err := h.login("dev", old)
			wantInvalid(t, err, "signature does not verify")
		})
	}
}

// TestKeyRotationConcurrent: logins racing after a rotation share one
// JWKS fetch.
func TestKeyRotationConcurrent(t *testing.T) {
	h := newHarness(t, oidctest.Options{})
	h.discoveryConfig(nil)
	h.jwtRole("dev", nil)
	if _, err := h.login("dev", h.token(nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.RotateKey(); err != nil {
		t.Fatal(err)
	}
	tok := h.token(nil)
	before := h.p.JWKSFetches()
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			_, err := h.login("dev", tok)
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent login after rotation: %v", err)
		}
	}
	if got := h.p.JWKSFetches() - before; got != 1 {
		t.Fatalf("16 concurrent logins fetched the JWKS %d times, want 1", got)
	}
}

func TestStaticPublicKeys(t *testing.T) {
	h := newHarness(t, oidctest.Options{})
	pub, err := h.p.PublicKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	h.Must(logical.UpdateOperation, "config", map[string]any{"jwt_validation_pubkeys": []any{pub}, "bound_issuer": h.p.Issuer()})
	h.jwtRole("dev", nil)
	if _, err := h.login("dev", h.token(nil)); err != nil {
		t.Fatalf("login with a static key: %v", err)
	}
	tok, err := h.p.MintWith(h.p.Claims("alice-sub", []string{"coffer"}, map[string]any{"email": "a@b"}), oidctest.MintOptions{Unpublished: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.login("dev", tok)
	wantInvalid(t, err, "signature does not verify")
}

func TestBoundClaimsGlob(t *testing.T) {
	h := newHarness(t, oidctest.Options{})
	h.discoveryConfig(nil)
	h.jwtRole("glob", map[string]any{
		"bound_claims_type": "glob",
		"bound_claims":      map[string]any{"email": "*@example.com", "/org/unit": []any{"team-*-prod", "root"}},
	})
	h.jwtRole("exact", map[string]any{"bound_claims": map[string]any{"email": "*@example.com"}})
	tests := []struct {
		role  string
		email string
		unit  any
		ok    bool
	}{
		{"glob", "alice@example.com", "team-a-prod", true},
		{"glob", "alice@example.com", "team-a/b-prod", true},
		{"glob", "alice@example.com", "root", true},
		{"glob", "alice@example.com", []any{"x", "team-z-prod"}, true},
		{"glob", "alice@example.com", "team-a-dev", false},
		{"glob", "alice@example.org", "root", false},
		{"glob", "alice@example.com.evil", "root", false},
		{"glob", "alice@example.com", nil, false},
		{"exact", "alice@example.com", "root", false},
		{"exact", "*@example.com", "root", true},
	}
	for _, tc := range tests {
		t.Run(tc.role+"/"+tc.email+"/"+strings.TrimSpace(strings.ReplaceAll(formatAny(tc.unit), " ", "_")), func(t *testing.T) {
			extra := map[string]any{"email": tc.email}
			if tc.unit != nil {
				extra["org"] = map[string]any{"unit": tc.unit}
			}
			_, err := h.login(tc.role, h.token(extra))
			if tc.ok != (err == nil) {
				t.Fatalf("ok = %v, err = %v", tc.ok, err)
			}
		})
	}
}

func formatAny(v any) string {
	switch x := v.(type) {
	case nil:
		return "none"
	case string:
		return x
	}
	return "list"
}

func TestGroupsClaim(t *testing.T) {
	h := newHarness(t, oidctest.Options{})
	h.discoveryConfig(nil)
	h.jwtRole("dev", nil)
	h.jwtRole("nested", map[string]any{"groups_claim": "/realm_access/roles"})
	tests := []struct {
		name, role string
		claims     map[string]any
		want       []string
		err        string
	}{
		{"list", "dev", map[string]any{"groups": []any{"a", "b"}}, []string{"a", "b"}, ""},
		{"single string", "dev", map[string]any{"groups": "admins"}, []string{"admins"}, ""},
		{"empty list", "dev", map[string]any{"groups": []any{}}, nil, ""},
		{"missing", "dev", map[string]any{"groups": nil}, nil, "claim not found"},
		{"not strings", "dev", map[string]any{"groups": []any{map[string]any{"x": 1}}}, nil, "could not be converted"},
		{"json pointer", "nested", map[string]any{"realm_access": map[string]any{"roles": []any{"r1"}}}, []string{"r1"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			auth, err := h.login(tc.role, h.token(tc.claims))
			if tc.err != "" {
				wantInvalid(t, err, tc.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range auth.GroupAliases {
				got = append(got, g.Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("groups = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBoundCIDRs(t *testing.T) {
	h := newHarness(t, oidctest.Options{})
	h.discoveryConfig(nil)
	h.jwtRole("dev", map[string]any{"token_bound_cidrs": "10.0.0.0/8"})
	_, err := h.login("dev", h.token(nil))
	if logical.KindOf(err) != logical.KindPermissionDenied {
		t.Fatalf("login from outside token_bound_cidrs: %v, want permission denied", err)
	}
}
