package identity

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestPoliciesTransitive(t *testing.T) {
	h := newHarness(t)
	e := h.createEntity(map[string]any{"name": "alice", "policies": []any{"own", "shared"}})
	other := h.createEntity(map[string]any{"name": "bob"})
	child := h.createGroup(map[string]any{"name": "child", "policies": []any{"child"}, "member_entity_ids": []any{e}})
	parent := h.createGroup(map[string]any{"name": "parent", "policies": []any{"parent", "shared"}, "member_group_ids": []any{child}})
	h.createGroup(map[string]any{"name": "grandparent", "policies": "gp", "member_group_ids": []any{parent}})
	h.createGroup(map[string]any{"name": "unrelated", "policies": "nope", "member_entity_ids": []any{other}})
	ext := h.externalGroup("ext", accA, "idp-group", "external")
	h.must(logical.UpdateOperation, "entity-alias", map[string]any{"name": "alice", "mount_accessor": accA, "canonical_id": e})
	h.login(accA, "alice", nil, "idp-group")

	steps := []struct {
		name   string
		change func()
		entity string
		want   []string
	}{
		{"entity, direct, inherited and external groups", func() {}, e, []string{"child", "external", "gp", "own", "parent", "shared"}},
		{"other entity gets only its groups", func() {}, other, []string{"nope"}},
		{"parent policy change is seen at once", func() {
			h.must(logical.UpdateOperation, "group/name/parent", map[string]any{"policies": "parent2"})
		}, e, []string{"child", "external", "gp", "own", "parent2", "shared"}},
		{"removing the subgroup link drops inherited policies", func() {
			h.must(logical.UpdateOperation, "group/name/parent", map[string]any{"member_group_ids": []any{}})
		}, e, []string{"child", "external", "own", "shared"}},
		{"deleting a group drops its policies", func() {
			h.must(logical.DeleteOperation, "group/id/"+ext, nil)
		}, e, []string{"child", "own", "shared"}},
		{"entity policy change", func() {
			h.must(logical.UpdateOperation, "entity/id/"+e, map[string]any{"policies": []any{}})
		}, e, []string{"child"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change()
			if got := h.policies(st.entity); !slices.Equal(got, st.want) {
				t.Fatalf("policies = %v, want %v", got, st.want)
			}
		})
	}
	if p, err := h.s.Policies(context.Background(), "no-such-entity"); p != nil || err != nil {
		t.Fatalf("unknown entity: %v, %v; want nil, nil", p, err)
	}
}

func TestDisabledEntity(t *testing.T) {
	h := newHarness(t)
	id := h.login(accA, "alice", nil)
	h.must(logical.UpdateOperation, "entity/id/"+id, map[string]any{"policies": "p"})
	tests := []struct {
		name     string
		disabled bool
	}{
		{"disabled", true},
		{"enabled again", false},
		{"disabled again", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.must(logical.UpdateOperation, "entity/id/"+id, map[string]any{"disabled": tt.disabled})
			before := h.st.writes.Load()
			p, perr := h.s.Policies(context.Background(), id)
			lid, lerr := h.s.Login(context.Background(), accA, &logical.Alias{Name: "alice", Metadata: map[string]string{"new": "x"}}, nil)
			if tt.disabled {
				if !errors.Is(perr, ErrEntityDisabled) || !errors.Is(lerr, ErrEntityDisabled) {
					t.Fatalf("Policies err %v, Login err %v; want ErrEntityDisabled", perr, lerr)
				}
				if logical.KindOf(lerr) != logical.KindPermissionDenied {
					t.Fatalf("disabled login is kind %d, want permission denied", logical.KindOf(lerr))
				}
				if w := h.st.writes.Load() - before; w != 0 {
					t.Fatalf("disabled login wrote %d times", w)
				}
				return
			}
			if perr != nil || lerr != nil || lid != id || !slices.Equal(p, []string{"p"}) {
				t.Fatalf("enabled: policies %v err %v, login %s err %v", p, perr, lid, lerr)
			}
		})
	}
}

func TestPoliciesCacheHitDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	h := newHarness(t)
	id := h.createEntity(map[string]any{"policies": "a,b"})
	g := h.createGroup(map[string]any{"policies": "c", "member_entity_ids": id})
	h.createGroup(map[string]any{"policies": "d", "member_group_ids": g})
	ctx := context.Background()
	if got := h.policies(id); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("policies = %v", got)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := h.s.Policies(ctx, id); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("cache hit allocates %.1f times, want 0", allocs)
	}
}

func BenchmarkPoliciesCacheHit(b *testing.B) {
	h := newHarness(b)
	id := h.createEntity(map[string]any{"policies": "a,b"})
	g := h.createGroup(map[string]any{"policies": "c", "member_entity_ids": id})
	h.createGroup(map[string]any{"policies": "d", "member_group_ids": g})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.s.Policies(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestReloadFromStorage(t *testing.T) {
	h := newHarness(t)
	id := h.login(accA, "alice", map[string]string{"k": "v"}, "idp")
	ext := h.externalGroup("ext", accA, "idp", "external")
	h.login(accA, "alice", map[string]string{"k": "v"}, "idp")
	h.createGroup(map[string]any{"name": "parent", "policies": "parent", "member_group_ids": ext})
	h.must(logical.UpdateOperation, "entity/id/"+id, map[string]any{"policies": "own", "metadata": map[string]any{"team": "x"}})
	want := h.must(logical.ReadOperation, "entity/id/"+id, nil)

	h2 := newHarnessOn(t, h.st)
	got := h2.must(logical.ReadOperation, "entity/id/"+id, nil)
	for _, k := range []string{"name", "creation_time", "last_update_time"} {
		if got[k] != want[k] {
			t.Errorf("%s after reload = %v, want %v", k, got[k], want[k])
		}
	}
	if !slices.Equal(ids(t, got, "group_ids"), ids(t, want, "group_ids")) || len(ids(t, got, "group_ids")) != 2 {
		t.Errorf("group_ids after reload = %v, want %v", got["group_ids"], want["group_ids"])
	}
	if p := h2.policies(id); !slices.Equal(p, []string{"external", "own", "parent"}) {
		t.Errorf("policies after reload = %v", p)
	}
	before := h2.st.writes.Load()
	if again := h2.login(accA, "alice", map[string]string{"k": "v"}, "idp"); again != id || h2.st.writes.Load() != before {
		t.Errorf("login after reload: entity %s (want %s), %d writes", again, id, h2.st.writes.Load()-before)
	}
}

func TestFailedWriteLeavesStateUnchanged(t *testing.T) {
	h := newHarness(t)
	id := h.login(accA, "alice", nil)
	g := h.createGroup(map[string]any{"name": "g", "policies": "p", "member_entity_ids": id})
	h.st.fail.Store(true)
	writes := []struct {
		name string
		op   logical.Operation
		path string
		data map[string]any
	}{
		{"entity update", logical.UpdateOperation, "entity/id/" + id, map[string]any{"policies": "new"}},
		{"entity delete", logical.DeleteOperation, "entity/id/" + id, nil},
		{"group update", logical.UpdateOperation, "group/id/" + g, map[string]any{"policies": "new"}},
		{"group delete", logical.DeleteOperation, "group/id/" + g, nil},
		{"entity create", logical.UpdateOperation, "entity", map[string]any{"name": "new"}},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			if _, err := h.do(w.op, w.path, w.data); !errors.Is(err, errInjected) {
				t.Fatalf("err = %v, want the storage failure", err)
			}
			if p := h.policies(id); !slices.Equal(p, []string{"p"}) {
				t.Fatalf("policies = %v after failed write", p)
			}
			if resp, _ := h.do(logical.ReadOperation, "entity/name/new", nil); resp != nil {
				t.Fatal("failed create is visible")
			}
		})
	}
	if _, err := h.s.Login(context.Background(), accA, &logical.Alias{Name: "bob"}, nil); !errors.Is(err, errInjected) {
		t.Fatalf("login with failing storage: %v", err)
	}
	h.st.fail.Store(false)
	if resp, _ := h.do(logical.ReadOperation, "entity/name/"+str(t, h.must(logical.ReadOperation, "entity/id/"+id, nil), "name"), nil); resp == nil {
		t.Fatal("entity lost")
	}
}
