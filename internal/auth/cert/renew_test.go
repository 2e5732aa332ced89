package cert

import (
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// TestRenewalChecksTheEntry: a token from a certificate login renews only
// while its certificate entry exists with the token's policies, on the
// entry's TTLs.
func TestRenewalChecksTheEntry(t *testing.T) {
	tb := newTestBackend(t, time.Now)
	root := NewTestCA(t, "root")
	leaf := root.Leaf(t, LeafOpts{CN: "alice"})
	write := func(policies string) {
		tb.mustWrite(t, "certs/web", map[string]any{"certificate": root.PEM, "token_policies": policies,
			"token_ttl": "10m", "token_max_ttl": "1h"})
	}
	write("web,read")
	resp, err := tb.login("web", "127.0.0.1", leaf.Cert)
	if err != nil {
		t.Fatal(err)
	}
	tb.CheckRenewal(t, resp.Auth, func(policies []string) { write(strings.Join(policies, ",")) }, func() {
		if _, err := tb.Do(logical.DeleteOperation, "certs/web", nil); err != nil {
			t.Fatal(err)
		}
	}, "web")
}
