package compat

import (
	"encoding/json"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/server/servertest"
)

// TestTokenRoles drives token roles as a Vault client would: an operator
// writes a role, a CI token allowed only to create against it gets tokens
// shaped by the role, renewal follows the role and stops when it is gone.
func TestTokenRoles(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	root := in.Client.Logical()
	if _, err := root.Write("auth/token/roles/ci", map[string]any{
		"allowed_policies": []string{"deploy", "read-config"}, "orphan": true,
		"token_period": "1h", "path_suffix": "gen-1",
	}); err != nil {
		t.Fatalf("write role: %v", err)
	}
	role, err := root.Read("auth/token/roles/ci")
	if err != nil || role == nil {
		t.Fatalf("read role: %v %v", role, err)
	}
	if role.Data["name"] != "ci" || role.Data["orphan"] != true || role.Data["token_period"] != json.Number("3600") ||
		role.Data["token_type"] != "default-service" || role.Data["path_suffix"] != "gen-1" {
		t.Fatalf("role = %v", role.Data)
	}
	list, err := root.List("auth/token/roles")
	if err != nil || list == nil || len(list.Data["keys"].([]any)) != 1 || list.Data["keys"].([]any)[0] != "ci" {
		t.Fatalf("list roles = %v, %v", list, err)
	}

	if err := in.Client.Sys().PutPolicy("ci-creator", `path "auth/token/create/ci" { capabilities = ["update"] }`); err != nil {
		t.Fatal(err)
	}
	creator := in.NewClient(t, createToken(t, in, &vaultapi.TokenCreateRequest{Policies: []string{"ci-creator"}}))
	sec, err := creator.Auth().Token().CreateWithRole(&vaultapi.TokenCreateRequest{Policies: []string{"deploy"}}, "ci")
	if err != nil {
		t.Fatalf("create with role: %v", err)
	}
	a := sec.Auth
	if !equalStrings(a.Policies, []string{"default", "deploy"}) || !a.Orphan || a.LeaseDuration != 3600 || !a.Renewable {
		t.Fatalf("role token auth = %+v", a)
	}
	if _, err := creator.Auth().Token().CreateWithRole(&vaultapi.TokenCreateRequest{Policies: []string{"admin"}}, "ci"); !isStatus(err, 400) {
		t.Fatalf("a policy outside the role: %v; want 400", err)
	}
	if _, err := creator.Auth().Token().Create(&vaultapi.TokenCreateRequest{}); !isStatus(err, 403) {
		t.Fatalf("plain create with a policy for the role only: %v; want 403", err)
	}
	look, err := in.Client.Auth().Token().Lookup(a.ClientToken)
	if err != nil || look.Data["role"] != "ci" || look.Data["path"] != "auth/token/create/ci/gen-1" || look.Data["orphan"] != true {
		t.Fatalf("lookup = %v, %v", look, err)
	}

	tok := in.NewClient(t, a.ClientToken).Auth().Token()
	ren, err := tok.RenewSelf(0)
	if err != nil || ren.Auth.LeaseDuration != 3600 {
		t.Fatalf("renew-self of a periodic role token = %+v, %v", ren, err)
	}
	// The role's period changes: the next renewal follows it.
	if _, err := root.Write("auth/token/roles/ci", map[string]any{"token_period": "20m"}); err != nil {
		t.Fatal(err)
	}
	if ren, err = tok.RenewSelf(0); err != nil || ren.Auth.LeaseDuration != 1200 {
		t.Fatalf("renew-self after the role's period changed = %+v, %v; want 1200s", ren, err)
	}
	if _, err := root.Delete("auth/token/roles/ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := tok.RenewSelf(0); !isStatus(err, 400) {
		t.Fatalf("renew-self after the role was deleted: %v; want 400", err)
	}
	if _, err := tok.LookupSelf(); err != nil {
		t.Fatalf("the token stops working when its role is deleted: %v; Vault keeps it until it expires", err)
	}
	if _, err := creator.Auth().Token().CreateWithRole(&vaultapi.TokenCreateRequest{}, "ci"); !isStatus(err, 400) {
		t.Fatalf("create against a deleted role: %v; want 400", err)
	}
	in.CheckNoLeaks(t, a.ClientToken, in.RootToken)
}

// TestTokenRoleEntityAlias creates tokens for an entity alias on the token
// mount: the first creates the entity, the next reuses it, and the entity's
// policies apply to the tokens.
func TestTokenRoleEntityAlias(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	root := in.Client.Logical()
	if _, err := root.Write("auth/token/roles/bots", map[string]any{"allowed_entity_aliases": []string{"deploy-*"}, "allowed_policies": "default"}); err != nil {
		t.Fatal(err)
	}
	create := func(alias string) (*vaultapi.Secret, error) {
		return in.Client.Auth().Token().CreateWithRole(&vaultapi.TokenCreateRequest{EntityAlias: alias}, "bots")
	}
	first, err := create("deploy-bot")
	if err != nil {
		t.Fatalf("create with entity alias: %v", err)
	}
	entityID := first.Auth.EntityID
	if entityID == "" {
		t.Fatalf("auth = %+v; want an entity", first.Auth)
	}
	second, err := create("Deploy-Bot")
	if err != nil || second.Auth.EntityID != entityID {
		t.Fatalf("second create: %+v, %v; want entity %s again", second, err, entityID)
	}
	if _, err := create("admin"); !isStatus(err, 400) {
		t.Fatalf("an alias the role does not allow: %v; want 400", err)
	}
	ent, err := root.Read("identity/entity/id/" + entityID)
	if err != nil || ent == nil {
		t.Fatalf("read entity: %v", err)
	}
	auths, err := in.Client.Sys().ListAuth()
	if err != nil {
		t.Fatal(err)
	}
	aliases, _ := ent.Data["aliases"].([]any)
	if len(aliases) != 1 || aliases[0].(map[string]any)["name"] != "deploy-bot" ||
		aliases[0].(map[string]any)["mount_accessor"] != auths["token/"].Accessor {
		t.Fatalf("entity aliases = %v; want deploy-bot on the token mount (%s)", aliases, auths["token/"].Accessor)
	}

	// The entity's policies reach its tokens on their next request.
	if err := in.Client.Sys().PutPolicy("bot-read", `path "secret/data/bot" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Client.KVv2("secret").Put(t.Context(), "bot", map[string]any{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	bot := in.NewClient(t, first.Auth.ClientToken)
	if _, err := bot.KVv2("secret").Get(t.Context(), "bot"); !isStatus(err, 403) {
		t.Fatalf("read before the entity has the policy: %v; want 403", err)
	}
	if _, err := root.Write("identity/entity/id/"+entityID, map[string]any{"policies": "bot-read"}); err != nil {
		t.Fatal(err)
	}
	if s, err := bot.KVv2("secret").Get(t.Context(), "bot"); err != nil || s.Data["k"] != "v" {
		t.Fatalf("read with the entity's policy: %v, %v", s, err)
	}
	if _, err := root.Write("identity/entity/id/"+entityID, map[string]any{"disabled": true}); err != nil {
		t.Fatal(err)
	}
	if _, err := create("deploy-bot"); !isStatus(err, 400) {
		t.Fatalf("create for a disabled entity: %v; want 400", err)
	}
}
