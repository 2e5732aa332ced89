package database

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/passpolicy"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// policySystem is a system view with password policies, as the core's.
type policySystem struct {
	logical.StaticSystemView
	policies map[string]*passpolicy.Policy
}

func (s policySystem) GeneratePassword(_ context.Context, name string) (string, error) {
	p, ok := s.policies[name]
	if !ok {
		return "", fmt.Errorf("unknown password policy %q", name)
	}
	return p.Generate()
}

// TestPasswordPolicy generates dynamic, static and root passwords from the
// config's password_policy; a policy whose charset includes a quote still
// produces passwords that log in.
func TestPasswordPolicy(t *testing.T) {
	pol, err := passpolicy.Parse(`length = 24
rule "charset" { charset = "abcdefghijklmnopqrstuvwxyz" min-chars = 4 }
rule "charset" { charset = "'" min-chars = 2 }
rule "charset" { charset = "0123456789" min-chars = 4 }`)
	if err != nil {
		t.Fatal(err)
	}
	sys := policySystem{StaticSystemView: logical.StaticSystemView{DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour},
		policies: map[string]*passpolicy.Policy{"quoted": pol}}
	e := newEnvSystem(t, inmem.New(), sys)
	e.must(t, logical.UpdateOperation, "config/pg", map[string]any{"password_policy": "quoted"})

	resp := e.must(t, logical.ReadOperation, "creds/ro", nil)
	user, pw := resp.Data["username"].(string), resp.Data["password"].(string)
	if !pol.Satisfies(pw) {
		t.Fatalf("dynamic password %q does not follow the policy", pw)
	}
	if !e.canLogin(user, pw) {
		t.Fatal("a policy-generated password with quotes does not log in")
	}
	e.superExec(t, `CREATE ROLE app WITH LOGIN PASSWORD 'old'`)
	e.must(t, logical.CreateOperation, "static-roles/app", map[string]any{"db_name": "pg", "username": "app", "rotation_period": "1h"})
	static := e.must(t, logical.ReadOperation, "static-creds/app", nil).Data["password"].(string)
	if !pol.Satisfies(static) || !e.canLogin("app", static) {
		t.Fatalf("static password %q does not follow the policy or does not log in", static)
	}
	e.must(t, logical.UpdateOperation, "rotate-root/pg", nil)
	e.must(t, logical.ReadOperation, "creds/ro", nil) // the engine still reaches the database

	e.must(t, logical.UpdateOperation, "config/pg", map[string]any{"password_policy": "missing"})
	if _, err := e.do(logical.ReadOperation, "creds/ro", nil); err == nil {
		t.Fatal("an unknown password policy did not fail the request")
	}
}

// TestStatementsAreAtomic checks that several creation statements, sent
// as one batch, commit all or nothing: a failing GRANT leaves no role.
func TestStatementsAreAtomic(t *testing.T) {
	e := newEnv(t)
	e.must(t, logical.UpdateOperation, "roles/broken", map[string]any{
		"db_name": "pg", "username_template": "broken-user",
		"creation_statements": []any{
			`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}';`,
			`GRANT SELECT ON no_such_table TO "{{name}}";`,
		},
	})
	if _, err := e.do(logical.ReadOperation, "creds/broken", nil); err == nil {
		t.Fatal("creds with a failing statement succeeded")
	}
	if e.roleExists(t, "broken-user") {
		t.Fatal("the role of a failed batch was committed")
	}
}
