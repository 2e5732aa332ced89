package userpass_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/server/servertest"
)

// TestRenewalChecksTheUser: a login token is renewed only while its user
// exists with the policies the token was issued with, and on the user's
// current TTLs, as Vault's userpass renew callback does.
func TestRenewalChecksTheUser(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	root := in.Client
	if err := root.Sys().EnableAuthWithOptions("userpass", &vaultapi.EnableAuthOptions{Type: "userpass"}); err != nil {
		t.Fatal(err)
	}
	const password = "renew-Pa55word"
	writeUser := func(data map[string]any) {
		t.Helper()
		data["password"] = password
		if _, err := root.Logical().Write("auth/userpass/users/bob", data); err != nil {
			t.Fatal(err)
		}
	}
	writeUser(map[string]any{"token_policies": "dev,ops", "token_ttl": "10m", "token_max_ttl": "2h"})
	secret, err := login(t, in, "bob", password)
	if err != nil {
		t.Fatal(err)
	}
	bob := in.NewClient(t, secret.Auth.ClientToken)
	renew := func() (*vaultapi.Secret, error) { return bob.Auth().Token().RenewSelf(0) }
	refused := func(what, message string) {
		t.Helper()
		_, err := renew()
		var re *vaultapi.ResponseError
		if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden || !strings.Contains(strings.Join(re.Errors, " "), message) {
			t.Fatalf("renewal %s: %v; want 403 saying %q", what, err, message)
		}
	}

	s, err := renew()
	if err != nil || s.Auth.LeaseDuration != 600 {
		t.Fatalf("renewal of a current login = %+v, %v; want a 600 s lease", s, err)
	}
	// The user's TTL now is what a renewal gives (the order of the
	// policies does not matter)...
	writeUser(map[string]any{"token_policies": "ops,dev", "token_ttl": "20m", "token_max_ttl": "2h"})
	if s, err = renew(); err != nil || s.Auth.LeaseDuration != 1200 {
		t.Fatalf("renewal after the TTL grew = %+v, %v; want a 1200 s lease", s, err)
	}
	// ...and a lower max TTL caps the token from then on.
	writeUser(map[string]any{"token_policies": "dev,ops", "token_ttl": "5m", "token_max_ttl": "6m"})
	if s, err = renew(); err != nil || s.Auth.LeaseDuration != 300 {
		t.Fatalf("renewal after the max TTL shrank = %+v, %v; want a 300 s lease", s, err)
	}
	look, err := bob.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatal(err)
	}
	if got := look.Data["explicit_max_ttl"]; got != jsonNumber("360") {
		t.Errorf("explicit_max_ttl after the renewal = %v; want 360", got)
	}

	writeUser(map[string]any{"token_policies": "dev,ops,admin", "token_ttl": "5m"})
	refused("after the user's policies changed", "policies have changed")
	writeUser(map[string]any{"token_policies": "dev,ops", "token_ttl": "5m"})
	if _, err := renew(); err != nil {
		t.Fatalf("renewal once the policies are back: %v", err)
	}
	if _, err := root.Logical().Delete("auth/userpass/users/bob"); err != nil {
		t.Fatal(err)
	}
	refused("after the user was deleted", `"bob" this token logged in with no longer exists`)
	// The refusals renewed nothing, and the token itself still works
	// until it expires, as in Vault.
	if _, err := bob.Auth().Token().LookupSelf(); err != nil {
		t.Fatalf("lookup after refused renewals: %v", err)
	}

	// Tokens the token store made are renewed as before.
	child, err := root.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{"dev"}, TTL: "10m"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.NewClient(t, child.Auth.ClientToken).Auth().Token().RenewSelf(0); err != nil {
		t.Fatalf("renewal of a token-store token: %v", err)
	}
}
