package jwt

import (
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/oidctest"
)

// TestRenewalChecksTheRole: a token from a JWT login renews only while
// its role exists with the token's policies, on the role's TTLs; a claim
// mapped onto the "role" metadata key cannot point the check elsewhere.
func TestRenewalChecksTheRole(t *testing.T) {
	h := newHarness(t, oidctest.Options{TLS: true})
	h.discoveryConfig(nil)
	extra := map[string]any{"token_ttl": "10m", "token_max_ttl": "1h",
		"claim_mappings": map[string]any{"name": "role"}}
	h.jwtRole("dev", extra)
	auth, err := h.login("dev", h.token(nil))
	if err != nil {
		t.Fatal(err)
	}
	h.CheckRenewal(t, auth, func(policies []string) {
		extra["token_policies"] = strings.Join(policies, ",")
		h.jwtRole("dev", extra)
	}, func() {
		h.Must(logical.DeleteOperation, "role/dev", nil)
	}, "dev")
}
