package jwt

import (
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/oidctest"
)

// BenchmarkLogin measures one JWT login (RS256 signature, claim checks,
// alias and groups) with the JWKS already cached.
func BenchmarkLogin(b *testing.B) {
	for _, source := range []string{"discovery", "pubkeys"} {
		b.Run(source, func(b *testing.B) {
			h := newHarness(b, oidctest.Options{})
			if source == "discovery" {
				h.discoveryConfig(nil)
			} else {
				pub, err := h.p.PublicKeyPEM()
				if err != nil {
					b.Fatal(err)
				}
				h.Must(logical.UpdateOperation, "config", map[string]any{"jwt_validation_pubkeys": []any{pub}})
			}
			h.jwtRole("dev", nil)
			tok := h.token(nil)
			if _, err := h.login("dev", tok); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := h.login("dev", tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
