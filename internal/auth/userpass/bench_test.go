package userpass

import (
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

// BenchmarkLogin measures one successful login and one for an unknown user
// (the dummy hash); the two should cost about the same.
func BenchmarkLogin(b *testing.B) {
	e := newEnv(b)
	e.Must(logical.UpdateOperation, "users/alice", map[string]any{"password": "pw", "token_policies": "dev"})
	for _, bc := range []struct{ name, user string }{{"known", "alice"}, {"unknown", "nobody"}} {
		b.Run(bc.name, func(b *testing.B) {
			data := map[string]any{"password": "pw"}
			for b.Loop() {
				_, err := e.Do(logical.UpdateOperation, "login/"+bc.user, data)
				if (err == nil) != (bc.user == "alice") {
					b.Fatal(err)
				}
			}
		})
	}
}
