package token

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

// FuzzRoleWriteAndCreate writes arbitrary role bodies and creates a token
// against each role that was accepted, with an arbitrary request body. A
// refused role must leave nothing stored; an accepted one must be valid
// when read back; and every token made against it must keep the role's
// limits: no disallowed policy, only allowed ones when there are any, the
// role's type, renewability and use limit.
func FuzzRoleWriteAndCreate(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"allowed_policies":"web,db","orphan":true}`, `{"policies":"web"}`},
		{`{"allowed_policies_glob":["team-*"],"disallowed_policies":"team-admin"}`, `{"policies":["team-admin","team-a"]}`},
		{`{"disallowed_policies_glob":"*","token_no_default_policy":true}`, `{}`},
		{`{"token_type":"batch","orphan":true,"renewable":false}`, `{"num_uses":2}`},
		{`{"token_type":"default-batch","orphan":true,"renewable":false,"token_num_uses":0}`, `{"type":"service","ttl":"1h"}`},
		{`{"token_period":"1h","token_explicit_max_ttl":"2h","token_num_uses":3,"renewable":false}`, `{"period":"10m","num_uses":9}`},
		{`{"path_suffix":"a.b/c-d","token_bound_cidrs":"10.0.0.0/8,192.168.1.1"}`, `{"bound_cidrs":"1.2.3.4"}`},
		{`{"path_suffix":"../x"}`, `{}`},
		{`{"token_type":"nope"}`, `{"entity_alias":"x"}`},
		{`{"allowed_entity_aliases":"bot-*,Alice"}`, `{"entity_alias":"ALICE"}`},
		{`{"allowed_entity_aliases":["*"],"orphan":true}`, `{"entity_alias":"bot-1","no_parent":false}`},
	} {
		f.Add(seed[0], seed[1])
	}
	a := newAPI(f)
	devRaw, dev := mustCreate(f, a.Store, CreateParams{Parent: a.root, Policies: []string{"dev", "team-a"}})
	a.Store.opts.EntityForAlias = func(_ context.Context, name string) (string, error) { return "entity-" + name, nil }
	f.Fuzz(func(t *testing.T, roleBody, createBody string) {
		var roleData, createData map[string]any
		if json.Unmarshal([]byte(roleBody), &roleData) != nil || json.Unmarshal([]byte(createBody), &createData) != nil {
			return
		}
		a.roles = newMemBackend()
		if _, err := a.asRoot(logical.UpdateOperation, "roles/r", roleData); err != nil {
			if len(a.roles.data) != 0 {
				t.Fatalf("refused role %s left %d entries stored", roleBody, len(a.roles.data))
			}
			return
		}
		role, err := loadRole(context.Background(), a.roles, "r")
		if err != nil || role == nil {
			t.Fatalf("accepted role %s does not load: %v", roleBody, err)
		}
		if err := role.validate(); err != nil {
			t.Fatalf("accepted role %s is invalid when read back: %v", roleBody, err)
		}
		resp, err := a.call(logical.UpdateOperation, "create/r", devRaw, dev, true, createData)
		if err != nil {
			return
		}
		e, err := a.Lookup(context.Background(), resp.Auth.ClientToken)
		if err != nil {
			t.Fatalf("role %s, create %s: the new token does not look up: %v", roleBody, createBody, err)
		}
		checkRoleToken(t, role, resp.Auth, e, roleBody, createBody)
		if alias, _ := createData["entity_alias"].(string); alias != "" {
			alias = strings.ToLower(alias)
			if !matchesAny(alias, role.AllowedEntityAliases, role.AllowedEntityAliases) || e.EntityID != "entity-"+alias {
				t.Fatalf("role %s, create %s: entity %q; the alias must be allowed and name the entity", roleBody, createBody, e.EntityID)
			}
		}
	})
}

func checkRoleToken(t *testing.T, role *Role, auth *logical.Auth, e *Entry, roleBody, createBody string) {
	t.Helper()
	for _, p := range auth.Policies {
		if matchesAny(p, role.DisallowedPolicies, role.DisallowedPoliciesGlob) {
			t.Fatalf("role %s, create %s: disallowed policy %q granted", roleBody, createBody, p)
		}
		allowedLists := len(role.AllowedPolicies) > 0 || len(role.AllowedPoliciesGlob) > 0
		if allowedLists && p != "default" && !matchesAny(p, role.AllowedPolicies, role.AllowedPoliciesGlob) {
			t.Fatalf("role %s, create %s: policy %q outside the allowed lists", roleBody, createBody, p)
		}
	}
	switch {
	case (role.Type == TypeBatch || role.Type == TypeService) && auth.TokenType != role.Type:
		t.Fatalf("role %s: token type %s; the role forces %s", roleBody, auth.TokenType, role.Type)
	case !role.Renewable && auth.Renewable:
		t.Fatalf("role %s: a renewable token from a non-renewable role", roleBody)
	case role.NumUses > 0 && (auth.NumUses == 0 || auth.NumUses > role.NumUses):
		t.Fatalf("role %s, create %s: %d uses; the role allows %d", roleBody, createBody, auth.NumUses, role.NumUses)
	case role.Orphan && !auth.Orphan:
		t.Fatalf("role %s: a child token from an orphan role", roleBody)
	case len(role.BoundCIDRs) > 0 && !slices.Equal(normalizeCIDRs(role.BoundCIDRs), e.BoundCIDRs):
		t.Fatalf("role %s: token not bound to the role's CIDRs", roleBody)
	}
}
