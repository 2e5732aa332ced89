package identity

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage/inmem"
	"github.com/cofferdev/coffer/internal/storage/storagetest"
)

// pair is an active store A and a standby store B over the same storage.
type pair struct {
	a, b *harness
	log  *storagetest.WriteLog
}

func newPair(t *testing.T) *pair {
	t.Helper()
	mem := inmem.New()
	log := &storagetest.WriteLog{Backend: mem}
	return &pair{
		a:   newHarnessOn(t, &countingStorage{Backend: log}),
		b:   newHarnessOn(t, &countingStorage{Backend: mem}),
		log: log,
	}
}

// state is what a test observes through a store.
type state struct {
	entityFound bool
	policies    []string
	policyErr   error
	aliasEntity string
}

func observe(h *harness, entityID string) state {
	var st state
	_, err := h.s.Entity(context.Background(), entityID)
	st.entityFound = err == nil
	p, err := h.s.Policies(context.Background(), entityID)
	st.policies, st.policyErr = slices.Clone(p), err
	h.s.mu.RLock()
	defer h.s.mu.RUnlock()
	st.aliasEntity = h.s.idx.aliasEntity[h.s.idx.aliasByKey[aliasKey{accA, "alice"}]]
	return st
}

// TestInvalidateStandby changes identity data through A and observes it
// through B (its index and policy cache warm): B shows the old state until
// it invalidates the keys A wrote, in either order, then the new one, and
// its index equals one freshly loaded from storage.
func TestInvalidateStandby(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		setup  func(h *harness) (entityID string, extra string)
		change func(h *harness, entityID, extra string)
	}{
		{"entity created", func(h *harness) (string, string) { return "", "" },
			func(h *harness, _, _ string) {
				h.createEntity(map[string]any{"name": "new", "policies": []string{"p1"}})
			}},
		{"entity policies changed", nil, func(h *harness, id, _ string) {
			h.must(logical.UpdateOperation, "entity/id/"+id, map[string]any{"policies": []string{"changed"}})
		}},
		{"entity disabled", nil, func(h *harness, id, _ string) {
			h.must(logical.UpdateOperation, "entity/id/"+id, map[string]any{"disabled": true})
		}},
		{"entity deleted", nil, func(h *harness, id, _ string) {
			h.must(logical.DeleteOperation, "entity/id/"+id, nil)
		}},
		{"group grants policies", nil, func(h *harness, id, _ string) {
			h.createGroup(map[string]any{"name": "g", "policies": []string{"from-group"}, "member_entity_ids": []string{id}})
		}},
		{"group deleted", func(h *harness) (string, string) {
			id := h.login(accA, "alice", nil)
			g := h.createGroup(map[string]any{"name": "g", "policies": []string{"from-group"}, "member_entity_ids": []string{id}})
			return id, g
		}, func(h *harness, _, g string) {
			h.must(logical.DeleteOperation, "group/id/"+g, nil)
		}},
		{"entities merged", func(h *harness) (string, string) {
			other := h.createEntity(map[string]any{"name": "target", "policies": []string{"target"}})
			return h.login(accA, "alice", nil), other
		}, func(h *harness, id, other string) {
			h.must(logical.UpdateOperation, "entity/merge", map[string]any{"from_entity_ids": []string{id}, "to_entity_id": other})
		}},
	}
	for _, tt := range tests {
		for _, reverse := range []bool{false, true} {
			name := tt.name
			if reverse {
				name += " keys reversed"
			}
			t.Run(name, func(t *testing.T) {
				p := newPair(t)
				setup := tt.setup
				if setup == nil {
					setup = func(h *harness) (string, string) {
						return h.login(accA, "alice", nil), ""
					}
				}
				id, extra := setup(p.a)
				// B starts from what A stored so far and warms its caches.
				for _, k := range p.log.Take() {
					p.b.s.Invalidate(ctx, k)
				}
				before := observe(p.b, id)
				if want := observe(p.a, id); !reflect.DeepEqual(before, want) {
					t.Fatalf("B before the change = %+v, A = %+v", before, want)
				}
				tt.change(p.a, id, extra)
				keys := p.log.Take()
				if len(keys) == 0 {
					t.Fatal("the change wrote nothing")
				}
				if got := observe(p.b, id); !reflect.DeepEqual(got, before) {
					t.Fatalf("B changed before Invalidate: %+v, was %+v", got, before)
				}
				if reverse {
					slices.Reverse(keys)
				}
				for _, k := range keys {
					p.b.s.Invalidate(ctx, k)
				}
				want := observe(p.a, id)
				if reflect.DeepEqual(want, before) && tt.name != "entity created" {
					t.Fatalf("the change is not visible through A either: %+v", want)
				}
				if got := observe(p.b, id); !reflect.DeepEqual(got, want) {
					t.Errorf("B after Invalidate = %+v, want A's %+v", got, want)
				}
				assertIndexFresh(t, p.b)
			})
		}
	}
}

// assertIndexFresh compares h's index with one loaded from storage.
func assertIndexFresh(t *testing.T, h *harness) {
	t.Helper()
	fresh, err := h.s.load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h.s.mu.RLock()
	defer h.s.mu.RUnlock()
	if !reflect.DeepEqual(h.s.idx, fresh) {
		t.Errorf("index after Invalidate differs from one loaded from storage:\n got %+v\nwant %+v", h.s.idx, fresh)
	}
}

// TestInvalidateCreatedEntityVisible checks the simplest case by ID: an
// entity created through A is unknown to B until B invalidates its key.
func TestInvalidateCreatedEntityVisible(t *testing.T) {
	ctx := context.Background()
	p := newPair(t)
	id := p.a.createEntity(map[string]any{"name": "e", "policies": []string{"p"}})
	if _, err := p.b.s.Entity(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("B.Entity before Invalidate = %v, want ErrNotFound", err)
	}
	for _, k := range p.log.Take() {
		p.b.s.Invalidate(ctx, k)
	}
	e, err := p.b.s.Entity(ctx, id)
	if err != nil || e.Name != "e" {
		t.Fatalf("B.Entity after Invalidate = %+v, %v", e, err)
	}
}

// TestInvalidateOtherKeyRebuilds hands B a key that names no object: B
// rebuilds its whole index from storage.
func TestInvalidateOtherKeyRebuilds(t *testing.T) {
	ctx := context.Background()
	for _, key := range []string{"unknown", "entity/", "entity/a/b", "group/"} {
		t.Run(key, func(t *testing.T) {
			p := newPair(t)
			id := p.a.createEntity(map[string]any{"name": "e"})
			g := p.a.createGroup(map[string]any{"name": "g", "member_entity_ids": []string{id}})
			p.b.s.Invalidate(ctx, key)
			if _, err := p.b.s.Entity(ctx, id); err != nil {
				t.Errorf("B.Entity after rebuild: %v", err)
			}
			if got := p.b.members(g); !slices.Equal(got, []string{id}) {
				t.Errorf("B group members after rebuild = %v", got)
			}
			assertIndexFresh(t, p.b)
		})
	}
}
