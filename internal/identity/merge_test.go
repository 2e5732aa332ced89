package identity

import (
	"slices"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

// mergeFixture has "to" with an alias on mount A, and "from" with aliases on
// mounts A (conflicting) and B, and membership of an internal group.
type mergeFixture struct {
	h                      *harness
	to, from               string
	toAliasA, fromAliasA   string
	fromAliasB, fromsGroup string
}

func newMergeFixture(t *testing.T) *mergeFixture {
	h := newHarness(t)
	f := &mergeFixture{h: h}
	f.to = h.login(accA, "alice", nil)
	f.from = h.login(accA, "alice-old", nil)
	h.must(logical.UpdateOperation, "entity/id/"+f.to, map[string]any{"policies": "to-policy"})
	h.must(logical.UpdateOperation, "entity/id/"+f.from, map[string]any{"policies": "from-policy"})
	f.fromAliasB = str(t, h.must(logical.UpdateOperation, "entity-alias", map[string]any{
		"name": "alice-b", "mount_accessor": accB, "canonical_id": f.from}), "id")
	f.toAliasA = aliasOnMount(t, h, f.to, accA)
	f.fromAliasA = aliasOnMount(t, h, f.from, accA)
	f.fromsGroup = h.createGroup(map[string]any{"name": "g", "policies": "group-policy", "member_entity_ids": f.from})
	return f
}

func aliasOnMount(t *testing.T, h *harness, entityID, acc string) string {
	t.Helper()
	for _, a := range h.must(logical.ReadOperation, "entity/id/"+entityID, nil)["aliases"].([]any) {
		if am := a.(map[string]any); am["mount_accessor"] == acc {
			return am["id"].(string)
		}
	}
	t.Fatalf("entity %s has no alias on %s", entityID, acc)
	return ""
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name string
		data func(f *mergeFixture) map[string]any
		// wantErr: the merge is refused and nothing changes.
		wantErr bool
		// wantAliasA is the alias kept on mount A: "to" or "from".
		wantAliasA string
	}{
		{name: "conflict without force is refused", wantErr: true, data: func(f *mergeFixture) map[string]any {
			return map[string]any{"to_entity_id": f.to, "from_entity_ids": []any{f.from}}
		}},
		{name: "to entity in from list is refused", wantErr: true, data: func(f *mergeFixture) map[string]any {
			return map[string]any{"to_entity_id": f.to, "from_entity_ids": []any{f.to}, "force": true}
		}},
		{name: "unknown from entity is refused", wantErr: true, data: func(f *mergeFixture) map[string]any {
			return map[string]any{"to_entity_id": f.to, "from_entity_ids": []any{"nope"}, "force": true}
		}},
		{name: "force keeps the to entity's alias", wantAliasA: "to", data: func(f *mergeFixture) map[string]any {
			return map[string]any{"to_entity_id": f.to, "from_entity_ids": []any{f.from}, "force": true}
		}},
		{name: "conflicting_alias_ids_to_keep picks the from alias", wantAliasA: "from", data: func(f *mergeFixture) map[string]any {
			return map[string]any{"to_entity_id": f.to, "from_entity_ids": []any{f.from}, "conflicting_alias_ids_to_keep": []any{f.fromAliasA}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newMergeFixture(t)
			h := f.h
			before := h.st.writes.Load()
			_, err := h.do(logical.UpdateOperation, "entity/merge", tt.data(f))
			writes := h.st.writes.Load() - before
			if tt.wantErr {
				wantKind(t, err, logical.KindInvalidRequest)
				if writes != 0 {
					t.Fatalf("refused merge wrote %d times", writes)
				}
				if h.must(logical.ReadOperation, "entity/id/"+f.from, nil) == nil {
					t.Fatal("refused merge deleted the from entity")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if writes != 1 {
				t.Fatalf("merge took %d storage writes, want one transaction", writes)
			}
			f.checkMerged(t, tt.wantAliasA)
		})
	}
}

// checkMerged checks the state after a successful merge.
func (f *mergeFixture) checkMerged(t *testing.T, wantAliasA string) {
	t.Helper()
	h := f.h
	if resp, _ := h.do(logical.ReadOperation, "entity/id/"+f.from, nil); resp != nil {
		t.Fatal("from entity still exists")
	}
	e := h.must(logical.ReadOperation, "entity/id/"+f.to, nil)
	if got := ids(t, e, "merged_entity_ids"); !slices.Equal(got, []string{f.from}) {
		t.Errorf("merged_entity_ids = %v", got)
	}
	if n := len(e["aliases"].([]any)); n != 2 {
		t.Errorf("to entity has %d aliases, want 2", n)
	}
	keptA, dropped := f.toAliasA, f.fromAliasA
	if wantAliasA == "from" {
		keptA, dropped = f.fromAliasA, f.toAliasA
	}
	if got := aliasOnMount(t, h, f.to, accA); got != keptA {
		t.Errorf("alias on mount A = %s, want %s", got, keptA)
	}
	if resp, _ := h.do(logical.ReadOperation, "entity-alias/id/"+dropped, nil); resp != nil {
		t.Errorf("dropped alias %s still readable", dropped)
	}
	b := h.must(logical.ReadOperation, "entity-alias/id/"+f.fromAliasB, nil)
	if str(t, b, "canonical_id") != f.to || !slices.Equal(ids(t, b, "merged_from_canonical_ids"), []string{f.from}) {
		t.Errorf("moved alias = %v", b)
	}
	// The moved alias now logs in as the to entity; group membership moved.
	if got := h.login(accB, "alice-b", nil); got != f.to {
		t.Errorf("login with moved alias gave %s, want %s", got, f.to)
	}
	if m := h.members(f.fromsGroup); !slices.Equal(m, []string{f.to}) {
		t.Errorf("group members = %v, want [%s]", m, f.to)
	}
	if p := h.policies(f.to); !slices.Equal(p, []string{"group-policy", "to-policy"}) {
		t.Errorf("policies = %v (policies are not merged, group membership is)", p)
	}
}
