package approle_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
	authapprole "github.com/hashicorp/vault/api/auth/approle"

	"github.com/cofferdev/coffer/internal/server"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// TestVaultClientLogin drives AppRole through a real Coffer server with the
// official Vault client and its approle helper, including a secret ID
// delivered response-wrapped.
func TestVaultClientLogin(t *testing.T) {
	if _, ok := server.AuthFactories()["approle"]; !ok {
		t.Fatal(`server.AuthFactories() has no "approle" entry: register approle.Factory`)
	}
	in := servertest.Start(t, servertest.Options{})
	root := in.Client
	if err := root.Sys().EnableAuthWithOptions("approle", &vaultapi.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Logical().Write("auth/approle/role/app", map[string]any{
		"token_policies": []string{"app"}, "token_ttl": "20m", "secret_id_num_uses": 1,
	}); err != nil {
		t.Fatal(err)
	}
	rid, err := root.Logical().Read("auth/approle/role/app/role-id")
	if err != nil || rid == nil {
		t.Fatalf("role-id: %v %v", rid, err)
	}
	roleID := rid.Data["role_id"].(string)
	sid, err := root.Logical().Write("auth/approle/role/app/secret-id", map[string]any{"metadata": `{"team":"blue"}`})
	if err != nil {
		t.Fatal(err)
	}
	secretID := sid.Data["secret_id"].(string)

	t.Run("login", func(t *testing.T) {
		secret, err := login(t, in, roleID, secretID, false)
		if err != nil {
			t.Fatal(err)
		}
		a := secret.Auth
		if !strings.HasPrefix(a.ClientToken, "hvs.") || a.LeaseDuration != 1200 || !slices.Contains(a.Policies, "app") ||
			a.Metadata["role_name"] != "app" || a.Metadata["team"] != "blue" {
			t.Fatalf("auth = %+v", a)
		}
		if _, err := in.NewClient(t, a.ClientToken).Auth().Token().LookupSelf(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("used up", func(t *testing.T) {
		_, err := login(t, in, roleID, secretID, false)
		var re *vaultapi.ResponseError
		if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest ||
			!slices.Equal(re.Errors, []string{"invalid role ID or secret ID"}) {
			t.Fatalf("err = %v", err)
		}
		look, err := root.Logical().Write("auth/approle/role/app/secret-id/lookup", map[string]any{"secret_id": secretID})
		if err != nil || look != nil {
			t.Fatalf("lookup of a used-up secret id = %+v, %v", look, err)
		}
	})
	t.Run("wrapped secret id", func(t *testing.T) {
		wrapper := in.NewClient(t, root.Token())
		wrapper.SetWrappingLookupFunc(func(string, string) string { return "60s" })
		w, err := wrapper.Logical().Write("auth/approle/role/app/secret-id", nil)
		if err != nil || w == nil || w.WrapInfo == nil || w.Data != nil {
			t.Fatalf("wrapped write = %+v, %v", w, err)
		}
		secret, err := login(t, in, roleID, w.WrapInfo.Token, true)
		if err != nil || secret.Auth == nil || secret.Auth.Metadata["role_name"] != "app" {
			t.Fatalf("login with wrapped secret id: %+v, %v", secret, err)
		}
		if _, err := login(t, in, roleID, w.WrapInfo.Token, true); err == nil {
			t.Fatal("a wrapping token unwrapped twice")
		}
	})
	in.CheckNoLeaks(t, secretID, roleID)
}

func login(t *testing.T, in *servertest.Instance, roleID, secretID string, wrapped bool) (*vaultapi.Secret, error) {
	t.Helper()
	var opts []authapprole.LoginOption
	if wrapped {
		opts = append(opts, authapprole.WithWrappingToken())
	}
	auth, err := authapprole.NewAppRoleAuth(roleID, &authapprole.SecretID{FromString: secretID}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return in.NewClient(t, "").Auth().Login(context.Background(), auth)
}
