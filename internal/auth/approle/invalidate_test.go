package approle

import (
	"context"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// TestInvalidateHMACKey replaces the mount's HMAC key in storage, as a
// snapshot restore on the active node would, and issues a secret ID under
// the new key: standby B, which cached the old key, refuses it until it
// invalidates "hmac-key", then accepts it.
func TestInvalidateHMACKey(t *testing.T) {
	ctx := context.Background()
	a := newEnv(t)
	a.Must(logical.UpdateOperation, "role/r", map[string]any{"token_policies": "p"})
	roleID := a.roleID("r")
	secret, _ := a.secretID("r", nil)
	b := newEnv(t)
	b.Storage = a.Storage
	b.open()
	if _, err := b.login("127.0.0.1", roleID, secret); err != nil {
		t.Fatalf("B login: %v", err)
	}

	// The restore: the shared storage gets another mount's content, with
	// its own HMAC key.
	c := newEnv(t)
	c.Must(logical.UpdateOperation, "role/r", map[string]any{"token_policies": "p"})
	roleID = c.roleID("r")
	fresh, _ := c.secretID("r", nil)
	replaceAll(t, a.Storage, c.Storage)
	if _, err := b.login("127.0.0.1", roleID, fresh); err == nil {
		t.Fatal("B accepted the new secret ID before Invalidate; the test cannot tell")
	}
	b.b.Invalidate(ctx, "role/r")
	if _, err := b.login("127.0.0.1", roleID, fresh); err == nil {
		t.Fatal("B dropped its HMAC key on Invalidate of a role key")
	}
	b.b.Invalidate(ctx, hmacKeyPath)
	if _, err := b.login("127.0.0.1", roleID, fresh); err != nil {
		t.Fatalf("B login after Invalidate: %v", err)
	}
}

// replaceAll makes dst hold exactly what src holds.
func replaceAll(t *testing.T, dst, src storage.Backend) {
	t.Helper()
	ctx := context.Background()
	for _, k := range allKeys(t, dst, "") {
		if err := dst.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range allKeys(t, src, "") {
		e, err := src.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := dst.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

func allKeys(t *testing.T, s storage.Backend, prefix string) []string {
	t.Helper()
	children, err := s.List(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range children {
		if strings.HasSuffix(c, "/") {
			out = append(out, allKeys(t, s, prefix+c)...)
		} else {
			out = append(out, prefix+c)
		}
	}
	return out
}

// TestStandbyModes checks that logins are tried on a standby and role
// changes are not.
func TestStandbyModes(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		path string
		want logical.StandbyMode
	}{
		{"login", logical.StandbyLocal},
		{"role/r", logical.StandbyDefault},
		{"role/r/secret-id", logical.StandbyDefault},
		{"tidy/secret-id", logical.StandbyDefault},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := e.b.StandbyMode(&logical.Request{Operation: logical.UpdateOperation, Path: tt.path}); got != tt.want {
				t.Errorf("StandbyMode(%q) = %d, want %d", tt.path, got, tt.want)
			}
		})
	}
}
