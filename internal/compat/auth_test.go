package compat

import (
	"slices"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/userpass"

	"github.com/cofferdev/coffer/internal/server/servertest"
)

// TestAuthMethodsAndIdentity drives sys/auth and identity/ with the Vault
// client the way Terraform's vault provider does: enable a method, tune it,
// create an entity with an alias on it and a group granting a policy, log in
// with the client's auth helper, and check the token carries the identity
// policies and can use them.
func TestAuthMethodsAndIdentity(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	sys := in.Client.Sys()
	if err := sys.EnableAuthWithOptions("people", &vaultapi.EnableAuthOptions{Type: "userpass", Description: "staff"}); err != nil {
		t.Fatal(err)
	}
	maxTTL := "2h"
	if err := sys.TuneMountAllowNil("auth/people", vaultapi.TuneMountConfigInput{MaxLeaseTTL: &maxTTL}); err != nil {
		t.Fatal(err)
	}
	auths, err := sys.ListAuth()
	if err != nil {
		t.Fatal(err)
	}
	people, ok := auths["people/"]
	if !ok || people.Type != "userpass" || people.Description != "staff" || people.Config.MaxLeaseTTL != 7200 {
		t.Fatalf("sys/auth lists people/ as %+v (present %v)", people, ok)
	}
	if err := sys.PutPolicy("team-read", `path "secret/data/team/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	lc := in.Client.Logical()
	if _, err := lc.Write("auth/people/users/alice", map[string]any{"password": "s3cret-horse"}); err != nil {
		t.Fatal(err)
	}
	ent, err := lc.Write("identity/entity", map[string]any{"name": "alice", "metadata": map[string]any{"team": "platform"}})
	if err != nil {
		t.Fatal(err)
	}
	entityID := ent.Data["id"].(string)
	if _, err := lc.Write("identity/entity-alias", map[string]any{"name": "alice", "canonical_id": entityID, "mount_accessor": people.Accessor}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.Write("identity/group", map[string]any{"name": "team", "policies": []string{"team-read"}, "member_entity_ids": []string{entityID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Client.KVv2("secret").Put(t.Context(), "team/db", map[string]any{"password": "team-db-pw"}); err != nil {
		t.Fatal(err)
	}

	user := in.NewClient(t, "")
	up, err := userpass.NewUserpassAuth("alice", &userpass.Password{FromString: "s3cret-horse"}, userpass.WithMountPath("people"))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := user.Auth().Login(t.Context(), up)
	if err != nil {
		t.Fatal(err)
	}
	if secret.Auth.EntityID != entityID || !slices.Contains(secret.Auth.IdentityPolicies, "team-read") || secret.Auth.LeaseDuration > 7200 {
		t.Fatalf("login auth = %+v; want entity %s, identity policy team-read, TTL ≤ 2h", secret.Auth, entityID)
	}
	got, err := user.KVv2("secret").Get(t.Context(), "team/db")
	if err != nil || got.Data["password"] != "team-db-pw" {
		t.Fatalf("read through the group's policy: %v, %v", got, err)
	}
	if _, err := user.KVv2("secret").Put(t.Context(), "team/db", map[string]any{"password": "x"}); !isStatus(err, 403) {
		t.Fatalf("write beyond the group's policy: %v; want 403", err)
	}
	look, err := lc.Write("identity/lookup/entity", map[string]any{"alias_name": "alice", "alias_mount_accessor": people.Accessor})
	if err != nil || look.Data["id"] != entityID {
		t.Fatalf("identity/lookup/entity = %v, %v", look, err)
	}
	if err := sys.DisableAuth("people"); err != nil {
		t.Fatal(err)
	}
	if _, err := user.Auth().Token().LookupSelf(); !isStatus(err, 403) {
		t.Fatalf("token of a disabled auth method: %v; want 403", err)
	}
	in.CheckNoLeaks(t, "s3cret-horse", "team-db-pw", secret.Auth.ClientToken)
}
