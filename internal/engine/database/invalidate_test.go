package database

import (
	"context"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
	"github.com/cofferdev/coffer/internal/storage/storagetest"
)

// standby builds a second engine over the storage of an env's engine, as a
// standby node's copy of the mount.
func standby(t *testing.T, store storage.Backend) *backend {
	t.Helper()
	b := newBackend(&logical.BackendConfig{Storage: store, MountPath: "database/",
		System: logical.StaticSystemView{DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour}}, time.Hour, time.Now)
	t.Cleanup(func() { b.Cleanup(context.Background()) })
	return b
}

func credsOn(b *backend) error {
	_, err := b.HandleRequest(context.Background(), &logical.Request{Operation: logical.ReadOperation,
		Path: "creds/ro", Caller: &logical.Caller{DisplayName: "token"}})
	return err
}

func (b *backend) cachedPool(name string) any {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.pools[name]; ok {
		return p
	}
	return nil
}

// TestInvalidateStandby changes the config through engine A and issues
// credentials through engine B over the same storage: B keeps its pool,
// built from the old config, until it invalidates the keys A wrote, then
// connects with the stored config.
func TestInvalidateStandby(t *testing.T) {
	tests := []struct {
		name      string
		change    func(t *testing.T, a *env)
		wantCreds bool
	}{
		{"wrong password", func(t *testing.T, a *env) {
			a.must(t, logical.UpdateOperation, "config/pg", map[string]any{"password": "not-the-password", "verify_connection": false})
		}, false},
		{"rotate root", func(t *testing.T, a *env) {
			a.must(t, logical.UpdateOperation, "rotate-root/pg", nil)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &storagetest.WriteLog{Backend: inmem.New()}
			a := newEnvWith(t, log)
			b := standby(t, log.Backend)
			if err := credsOn(b); err != nil {
				t.Fatalf("B creds: %v", err)
			}
			before := b.cachedPool("pg")
			log.Take()
			tt.change(t, a)
			keys := log.Take()
			if err := credsOn(b); err != nil {
				t.Fatalf("B creds before Invalidate = %v; want the stale pool to still work", err)
			}
			if b.cachedPool("pg") != before {
				t.Fatal("B replaced its pool before Invalidate; the test cannot tell")
			}
			for _, k := range keys {
				b.Invalidate(context.Background(), k)
			}
			if b.cachedPool("pg") != nil {
				t.Fatalf("B still caches its pool after Invalidate of %q", keys)
			}
			if err := credsOn(b); (err == nil) != tt.wantCreds {
				t.Fatalf("B creds after Invalidate: %v, want success %v", err, tt.wantCreds)
			}
		})
	}
}

// TestInvalidateKeys checks which keys close a cached pool.
func TestInvalidateKeys(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		key    string
		closes bool
	}{
		{"role/ro", false},
		{"static-role/s", false},
		{"journal/static/s", false},
		{"config/other", false},
		{"config/pg", true},
		{"unknown", true},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if err := credsOn(e.b); err != nil {
				t.Fatal(err)
			}
			before := e.b.cachedPool("pg")
			e.b.Invalidate(context.Background(), tt.key)
			if closed := e.b.cachedPool("pg") != before; closed != tt.closes {
				t.Errorf("Invalidate(%q) closed the pool = %v, want %v", tt.key, closed, tt.closes)
			}
		})
	}
}

// TestStandbyModes checks that credential creation always goes to the
// active node and storage reads do not.
func TestStandbyModes(t *testing.T) {
	b := standby(t, inmem.New())
	tests := []struct {
		path string
		want logical.StandbyMode
	}{
		{"creds/ro", logical.StandbyForward},
		{"static-creds/s", logical.StandbyDefault},
		{"roles/ro", logical.StandbyDefault},
		{"config/pg", logical.StandbyDefault},
		{"rotate-root/pg", logical.StandbyDefault},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := b.StandbyMode(&logical.Request{Operation: logical.ReadOperation, Path: tt.path}); got != tt.want {
				t.Errorf("StandbyMode(%q) = %d, want %d", tt.path, got, tt.want)
			}
		})
	}
}

// TestInvalidateDoesNotWaitForConnect checks that Invalidate returns while
// a pool is being opened (the core calls it from the storage apply loop),
// and that the pool being opened is then not cached.
func TestInvalidateDoesNotWaitForConnect(t *testing.T) {
	b := standby(t, inmem.New())
	b.openMu.Lock() // a connection attempt in progress
	b.mu.Lock()
	gen := b.poolGen
	b.mu.Unlock()
	b.Invalidate(context.Background(), "config/pg")
	b.openMu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.poolGen == gen {
		t.Fatal("Invalidate did not bump the pool generation: a pool opened meanwhile would be cached")
	}
}

// TestStandbyStartsNoRotationLoop: a standby's copy of the mount must not
// rotate static roles or settle the rotation journal (the active node's
// copy does), so its loop is never started.
func TestStandbyStartsNoRotationLoop(t *testing.T) {
	for _, standby := range []bool{false, true} {
		b := newBackend(&logical.BackendConfig{Storage: inmem.New(), MountPath: "database/", Standby: standby}, time.Hour, time.Now)
		select {
		case <-b.done:
			if !standby {
				t.Error("the active copy's rotation loop is not running")
			}
		default:
			if standby {
				t.Error("a standby's copy runs the rotation loop")
			}
		}
		b.Cleanup(context.Background())
	}
}
