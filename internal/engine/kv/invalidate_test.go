package kv

import (
	"context"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage/storagetest"
)

// cached reports whether the engine's caches hold the metadata and the
// version-1 data of path.
func (e *env) cached(path string) (meta, data bool) {
	e.b.meta.mu.RLock()
	_, meta = e.b.meta.m[metadataKey(path)]
	e.b.meta.mu.RUnlock()
	e.b.data.mu.RLock()
	_, data = e.b.data.m[versionKey(path, 1)]
	e.b.data.mu.RUnlock()
	return meta, data
}

// TestInvalidateStandby changes a secret through engine A and reads it
// through engine B over the same storage (B's caches warm): B's answers
// always match storage, B keeps the old decoded entries (a destroyed
// version's secret data included) until it invalidates the keys A wrote,
// and drops them then.
func TestInvalidateStandby(t *testing.T) {
	tests := []struct {
		name     string
		change   func(a *env)
		wantMeta bool // B still caches metadata after Invalidate and a read
	}{
		{"destroy", func(a *env) {
			a.must(logical.UpdateOperation, "destroy/p", map[string]any{"versions": []any{"1"}})
		}, true},
		{"metadata delete", func(a *env) { a.must(logical.DeleteOperation, "metadata/p", nil) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newEnv(t)
			log := &storagetest.WriteLog{Backend: a.s}
			b := &env{t: t, b: newVersioned(a.clock.Now), s: a.s, clock: a.clock}
			a.s = log
			a.put("p", map[string]any{"secret": "old"})
			b.must(logical.ReadOperation, "data/p", nil)
			if m, d := b.cached("p"); !m || !d {
				t.Fatalf("B's caches after a read: metadata %v, data %v", m, d)
			}
			log.Take()
			tt.change(a)
			keys := log.Take()

			resp, err := b.do(logical.ReadOperation, "data/p", nil)
			if err == nil && resp != nil && !resp.NotFound {
				t.Fatalf("B read the changed secret as %v; want it gone", resp.Data)
			}
			if _, d := b.cached("p"); !d {
				t.Fatal("B's data cache lost the version before Invalidate; the test cannot tell")
			}
			for _, k := range keys {
				b.b.Invalidate(context.Background(), k)
			}
			if _, d := b.cached("p"); d {
				t.Error("B still caches the version's secret data after Invalidate")
			}
			_, _ = b.do(logical.ReadOperation, "data/p", nil)
			if m, _ := b.cached("p"); m != tt.wantMeta {
				t.Errorf("B caches metadata = %v after Invalidate and a read, want %v", m, tt.wantMeta)
			}
		})
	}
}

// TestInvalidateFollowsWrites checks a standby's answers follow another
// engine's writes, new versions and config included.
func TestInvalidateFollowsWrites(t *testing.T) {
	a := newEnv(t)
	b := &env{t: t, b: newVersioned(a.clock.Now), s: a.s, clock: a.clock}
	a.put("p", map[string]any{"v": "1"})
	assertJSON(t, b.must(logical.ReadOperation, "data/p", nil).Data["data"], `{"v":"1"}`)
	a.put("p", map[string]any{"v": "2"})
	assertJSON(t, b.must(logical.ReadOperation, "data/p", nil).Data["data"], `{"v":"2"}`)
	a.must(logical.UpdateOperation, "config", map[string]any{"max_versions": 3})
	b.b.Invalidate(context.Background(), configKey)
	assertJSON(t, b.must(logical.ReadOperation, "config", nil).Data["max_versions"], `3`)
}

// TestInvalidateUnknownKeyClears checks that a key outside the layout
// empties both caches.
func TestInvalidateUnknownKeyClears(t *testing.T) {
	e := newEnv(t)
	e.put("p", map[string]any{"v": "1"})
	e.must(logical.ReadOperation, "data/p", nil)
	for _, tt := range []struct {
		key      string
		wantKept bool
	}{{configKey, true}, {"metadata/other", true}, {"unknown", false}} {
		t.Run(tt.key, func(t *testing.T) {
			e.must(logical.ReadOperation, "data/p", nil)
			e.b.Invalidate(context.Background(), tt.key)
			m, d := e.cached("p")
			if m != tt.wantKept || d != tt.wantKept {
				t.Errorf("after Invalidate(%q): metadata cached %v, data cached %v; want %v", tt.key, m, d, tt.wantKept)
			}
		})
	}
}
