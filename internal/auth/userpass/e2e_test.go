package userpass_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
	authuserpass "github.com/hashicorp/vault/api/auth/userpass"

	"github.com/cofferdev/coffer/internal/server"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// TestVaultClientLogin drives userpass through a real Coffer server with
// the official Vault client and its userpass helper.
func TestVaultClientLogin(t *testing.T) {
	if _, ok := server.AuthFactories()["userpass"]; !ok {
		t.Fatal(`server.AuthFactories() has no "userpass" entry: register userpass.Factory`)
	}
	in := servertest.Start(t, servertest.Options{})
	root := in.Client
	if err := root.Sys().EnableAuthWithOptions("userpass", &vaultapi.EnableAuthOptions{Type: "userpass"}); err != nil {
		t.Fatal(err)
	}
	const password = "e2e-Pa55word-never-logged"
	if _, err := root.Logical().Write("auth/userpass/users/Alice", map[string]any{
		"password": password, "token_policies": "dev", "token_ttl": "15m",
	}); err != nil {
		t.Fatal(err)
	}
	user, err := root.Logical().Read("auth/userpass/users/alice")
	if err != nil || user == nil || user.Data["password"] != nil || user.Data["token_ttl"] != jsonNumber("900") {
		t.Fatalf("read user = %+v, %v", user, err)
	}

	t.Run("login", func(t *testing.T) {
		secret, err := login(t, in, "alice", password)
		if err != nil {
			t.Fatal(err)
		}
		a := secret.Auth
		if !strings.HasPrefix(a.ClientToken, "hvs.") || a.LeaseDuration != 900 || !slices.Contains(a.Policies, "dev") ||
			a.Metadata["username"] != "alice" {
			t.Fatalf("auth = %+v", a)
		}
		self, err := in.NewClient(t, a.ClientToken).Auth().Token().LookupSelf()
		if err != nil {
			t.Fatal(err)
		}
		if self.Data["display_name"] != "userpass-alice" {
			t.Errorf("display_name = %v", self.Data["display_name"])
		}
	})
	for name, c := range map[string][2]string{
		"wrong password": {"alice", password + "x"},
		"unknown user":   {"mallory", password},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := login(t, in, c[0], c[1])
			var re *vaultapi.ResponseError
			if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest ||
				!slices.Equal(re.Errors, []string{"invalid username or password"}) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	in.CheckNoLeaks(t, password, password+"x")
}

func login(t *testing.T, in *servertest.Instance, user, password string) (*vaultapi.Secret, error) {
	t.Helper()
	auth, err := authuserpass.NewUserpassAuth(user, &authuserpass.Password{FromString: password})
	if err != nil {
		t.Fatal(err)
	}
	return in.NewClient(t, "").Auth().Login(context.Background(), auth)
}

// jsonNumber is how the Vault client decodes numbers.
func jsonNumber(s string) any { return json.Number(s) }
