package approle

import (
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

// BenchmarkLogin measures a login with an unlimited secret ID and one that
// spends a use (a storage write) each time.
func BenchmarkLogin(b *testing.B) {
	for _, bc := range []struct {
		name string
		uses int
	}{{"unlimited", 0}, {"counted", 1 << 30}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b)
			e.Must(logical.UpdateOperation, "role/r", map[string]any{"token_policies": "app"})
			id := e.roleID("r")
			secret, _ := e.secretID("r", map[string]any{"num_uses": bc.uses})
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.login("127.0.0.1", id, secret); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
