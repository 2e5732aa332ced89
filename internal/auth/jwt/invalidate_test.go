package jwt

import (
	"context"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/logical/logicaltest"
	"github.com/cofferdev/coffer/internal/oidctest"
	"github.com/cofferdev/coffer/internal/storage/storagetest"
)

// standbyOf returns a second backend over h's storage, as a standby node's
// copy of the mount, and a writeLog that h's writes now go through.
func standbyOf(t *testing.T, h *harness) (*harness, *storagetest.WriteLog) {
	t.Helper()
	mem := h.Storage
	log := &storagetest.WriteLog{Backend: mem}
	h.Storage = log
	s := &harness{Harness: logicaltest.New(t, "auth/jwt/"), t: t, p: h.p, ms: h.ms}
	s.Storage = mem
	b, err := New(context.Background(), s.Config(), Options{Now: h.ms.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.b, s.Backend = b, b
	return s, log
}

// TestInvalidateStandby changes the config through A and logs in through
// B (its verifier built): B verifies with the old config until it
// invalidates the keys A wrote, then with the stored one.
func TestInvalidateStandby(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]any
		role   string // the role B logs in with
	}{
		// Refused after the change: only ES256 tokens are accepted.
		{"algorithms", map[string]any{"jwt_supported_algs": "ES256"}, "dev"},
		// Accepted only after the change: a login without a role uses
		// the config's default_role.
		{"default role", map[string]any{"default_role": "dev"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newHarness(t, oidctest.Options{})
			a.discoveryConfig(nil)
			a.jwtRole("dev", nil)
			b, log := standbyOf(t, a)
			_, before := b.login(tt.role, a.token(nil))
			a.discoveryConfig(tt.config)
			_, want := a.login(tt.role, a.token(nil))
			if (before == nil) == (want == nil) {
				t.Fatalf("the change does not change the outcome (before %v, after on A %v)", before, want)
			}
			keys := log.Take()
			if _, err := b.login(tt.role, a.token(nil)); (err == nil) != (before == nil) {
				t.Fatalf("B login before Invalidate = %v; want the stale outcome %v", err, before)
			}
			for _, k := range keys {
				b.b.Invalidate(context.Background(), k)
			}
			if _, err := b.login(tt.role, a.token(nil)); (err == nil) != (want == nil) {
				t.Fatalf("B login after Invalidate of %q = %v; want A's outcome %v", keys, err, want)
			}
		})
	}
}

// TestInvalidateRoleKeepsVerifier checks that role changes are seen without
// invalidation (roles are not cached) and do not drop the verifier.
func TestInvalidateRoleKeepsVerifier(t *testing.T) {
	a := newHarness(t, oidctest.Options{})
	a.discoveryConfig(nil)
	a.jwtRole("dev", nil)
	b, _ := standbyOf(t, a)
	if _, err := b.login("dev", a.token(nil)); err != nil {
		t.Fatal(err)
	}
	a.jwtRole("dev", map[string]any{"bound_audiences": "someone-else"})
	if _, err := b.login("dev", a.token(nil)); err == nil {
		t.Fatal("B accepted a login the changed role refuses")
	}
	ver, _ := b.b.cachedVerifier()
	b.b.Invalidate(context.Background(), "role/dev")
	if now, _ := b.b.cachedVerifier(); now != ver || ver == nil {
		t.Error("Invalidate of a role dropped the verifier")
	}
}

// TestStandbyModes checks which paths a standby serves itself.
func TestStandbyModes(t *testing.T) {
	h := newHarness(t, oidctest.Options{})
	tests := []struct {
		path string
		want logical.StandbyMode
	}{
		{"login", logical.StandbyLocal},
		{"oidc/auth_url", logical.StandbyForward},
		{"oidc/callback", logical.StandbyForward},
		{"config", logical.StandbyDefault},
		{"role/dev", logical.StandbyDefault},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := h.b.StandbyMode(&logical.Request{Operation: logical.UpdateOperation, Path: tt.path}); got != tt.want {
				t.Errorf("StandbyMode(%q) = %d, want %d", tt.path, got, tt.want)
			}
		})
	}
}

// TestInvalidateDuringBuild checks that Invalidate does not wait for a
// verifier being built (which may fetch from the provider for up to
// httpTimeout; the core calls Invalidate from the storage apply loop), and
// that a verifier built from a config read before the Invalidate is not
// cached.
func TestInvalidateDuringBuild(t *testing.T) {
	h := newHarness(t, oidctest.Options{})
	_, gen := h.b.cachedVerifier()
	h.b.mu.Lock() // a build in progress
	h.b.Invalidate(context.Background(), configKey)
	h.b.mu.Unlock()
	h.b.cacheVerifier(&verifier{}, gen)
	if v, _ := h.b.cachedVerifier(); v != nil {
		t.Fatal("a verifier built before Invalidate was cached")
	}
}
