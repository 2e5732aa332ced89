package jwt_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/oidctest"
	"github.com/cofferdev/coffer/internal/server"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// TestEndToEnd logs in through the whole server with the official Vault
// client: auth/jwt/login over HTTP, the token's policies (role and
// external-group mapping) and a failed login's 400.
func TestEndToEnd(t *testing.T) {
	for _, typ := range []string{"jwt", "oidc"} {
		if _, ok := server.AuthFactories()[typ]; !ok {
			t.Fatalf(`server.AuthFactories() has no %q entry: register jwt.Factory`, typ)
		}
	}
	in := servertest.Start(t, servertest.Options{})
	p := oidctest.Start(t, oidctest.Options{TLS: true})
	root := in.Client
	if err := root.Sys().EnableAuthWithOptions("jwt", &vaultapi.EnableAuthOptions{Type: "jwt"}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, root, "sys/policies/acl/dev", map[string]any{"policy": `path "secret/data/dev/*" { capabilities = ["read"] }`})
	mustWrite(t, root, "sys/policies/acl/eng", map[string]any{"policy": `path "secret/data/eng/*" { capabilities = ["read"] }`})
	mustWrite(t, root, "secret/data/dev/app", map[string]any{"data": map[string]any{"k": "dev-value"}})
	mustWrite(t, root, "secret/data/eng/app", map[string]any{"data": map[string]any{"k": "eng-value"}})
	mustWrite(t, root, "secret/data/ops/app", map[string]any{"data": map[string]any{"k": "ops-value"}})
	mustWrite(t, root, "auth/jwt/config", map[string]any{"oidc_discovery_url": p.Issuer(), "oidc_discovery_ca_pem": p.CACertPEM()})
	mustWrite(t, root, "auth/jwt/role/ci", map[string]any{
		"role_type": "jwt", "bound_audiences": []string{"coffer"}, "user_claim": "email",
		"groups_claim": "groups", "token_policies": []string{"dev"}, "token_ttl": "10m",
	})
	auths, err := root.Sys().ListAuth()
	if err != nil {
		t.Fatal(err)
	}
	g := mustWrite(t, root, "identity/group", map[string]any{"name": "eng", "type": "external", "policies": []string{"eng"}})
	mustWrite(t, root, "identity/group-alias", map[string]any{"name": "engineering", "mount_accessor": auths["jwt/"].Accessor, "canonical_id": g.Data["id"]})

	tok, err := p.Mint(p.Claims("alice-sub", []string{"coffer"}, map[string]any{"email": "alice@example.com", "groups": []string{"engineering"}}))
	if err != nil {
		t.Fatal(err)
	}
	anon := in.NewClient(t, "")
	s, err := anon.Logical().Write("auth/jwt/login", map[string]any{"role": "ci", "jwt": tok})
	if err != nil {
		t.Fatal(err)
	}
	if s.Auth == nil || !strings.HasPrefix(s.Auth.ClientToken, "hvs.") {
		t.Fatalf("login auth = %+v", s.Auth)
	}
	if !slices.Contains(s.Auth.TokenPolicies, "dev") || !slices.Contains(s.Auth.IdentityPolicies, "eng") {
		t.Fatalf("policies: token %v identity %v", s.Auth.TokenPolicies, s.Auth.IdentityPolicies)
	}
	if s.Auth.Metadata["role"] != "ci" || s.Auth.LeaseDuration != int((10*time.Minute).Seconds()) {
		t.Fatalf("metadata %v ttl %d", s.Auth.Metadata, s.Auth.LeaseDuration)
	}
	user := in.NewClient(t, s.Auth.ClientToken)
	for path, ok := range map[string]bool{"secret/data/dev/app": true, "secret/data/eng/app": true, "secret/data/ops/app": false} {
		_, err := user.Logical().Read(path)
		if (err == nil) != ok {
			t.Errorf("read %s: err = %v, want allowed = %v", path, err, ok)
		}
	}

	expired, err := p.Mint(p.Claims("alice-sub", []string{"coffer"}, map[string]any{"email": "alice@example.com", "groups": "engineering", "exp": time.Now().Add(-time.Hour).Unix()}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = anon.Logical().Write("auth/jwt/login", map[string]any{"role": "ci", "jwt": expired})
	var re *vaultapi.ResponseError
	if !asResponseError(err, &re) || re.StatusCode != 400 || !strings.Contains(err.Error(), "token is expired") {
		t.Fatalf("expired login: %v", err)
	}
	if strings.Contains(err.Error(), "alice@example.com") || strings.Contains(err.Error(), expired) {
		t.Fatalf("error leaks token contents: %v", err)
	}
	in.CheckNoLeaks(t, tok, expired, s.Auth.ClientToken, p.ClientSecret())
}

func mustWrite(t *testing.T, c *vaultapi.Client, path string, data map[string]any) *vaultapi.Secret {
	t.Helper()
	s, err := c.Logical().Write(path, data)
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return s
}

func asResponseError(err error, out **vaultapi.ResponseError) bool {
	re, ok := err.(*vaultapi.ResponseError)
	if ok {
		*out = re
	}
	return ok
}
