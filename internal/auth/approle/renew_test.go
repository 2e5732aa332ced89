package approle

import (
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

// TestRenewalChecksTheRole: a token from an AppRole login renews only
// while its role exists with the token's policies, on the role's TTLs.
func TestRenewalChecksTheRole(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "role/app", map[string]any{"token_policies": "app,db", "token_ttl": "10m", "token_max_ttl": "1h"})
	secret, _ := e.secretID("app", map[string]any{"metadata": `{"role_name":"spoofed"}`})
	resp, err := e.login("10.0.0.1", e.roleID("app"), secret)
	if err != nil {
		t.Fatal(err)
	}
	e.CheckRenewal(t, resp.Auth, func(policies []string) {
		e.Must(logical.UpdateOperation, "role/app", map[string]any{"token_policies": strings.Join(policies, ",")})
	}, func() {
		e.Must(logical.DeleteOperation, "role/app", nil)
	}, "app")
}
