package identity

import (
	"slices"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestGroupCyclesRejected(t *testing.T) {
	h := newHarness(t)
	a := h.createGroup(map[string]any{"name": "a"})
	b := h.createGroup(map[string]any{"name": "b", "member_group_ids": a})
	c := h.createGroup(map[string]any{"name": "c", "member_group_ids": b})
	d := h.createGroup(map[string]any{"name": "d"})
	tests := []struct {
		name    string
		group   string
		members []any
		wantErr bool
	}{
		{"self membership", d, []any{d}, true},
		{"two-group cycle", a, []any{b}, true},
		{"three-group cycle", a, []any{c}, true},
		{"one bad member among good ones", a, []any{d, c}, true},
		{"unknown member group", d, []any{"no-such-group"}, true},
		{"diamond is fine", d, []any{a, b}, false},
		{"sibling link is fine", a, []any{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.must(logical.ReadOperation, "group/id/"+tt.group, nil)
			_, err := h.do(logical.UpdateOperation, "group/id/"+tt.group, map[string]any{"member_group_ids": tt.members})
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantKind(t, err, logical.KindInvalidRequest)
			after := h.must(logical.ReadOperation, "group/id/"+tt.group, nil)
			if !slices.Equal(ids(t, after, "member_group_ids"), ids(t, before, "member_group_ids")) {
				t.Fatalf("refused update changed members: %v -> %v", before["member_group_ids"], after["member_group_ids"])
			}
		})
	}
	// The diamond: d has members a and b, b has a; a's parents are b and d.
	if got := ids(t, h.must(logical.ReadOperation, "group/id/"+a, nil), "parent_group_ids"); !slices.Equal(got, sortedKeys(map[string]struct{}{b: {}, d: {}})) {
		t.Fatalf("parent_group_ids of a = %v", got)
	}
}

func TestGroupValidation(t *testing.T) {
	h := newHarness(t)
	e := h.createEntity(map[string]any{"name": "e"})
	ext := h.createGroup(map[string]any{"name": "ext", "type": "external"})
	in := h.createGroup(map[string]any{"name": "in"})
	tests := []struct {
		name string
		path string
		data map[string]any
	}{
		{"external group with member entities", "group/id/" + ext, map[string]any{"member_entity_ids": e}},
		{"external group with member groups", "group/id/" + ext, map[string]any{"member_group_ids": in}},
		{"type change", "group/id/" + in, map[string]any{"type": "external"}},
		{"bad type", "group", map[string]any{"name": "x", "type": "weird"}},
		{"unknown member entity", "group/id/" + in, map[string]any{"member_entity_ids": "nobody"}},
		{"duplicate name", "group/id/" + in, map[string]any{"name": "ext"}},
		{"unknown id", "group/id/nope", map[string]any{"policies": "p"}},
		{"alias on internal group", "group-alias", map[string]any{"name": "x", "mount_accessor": accA, "canonical_id": in}},
		{"alias with unknown mount", "group-alias", map[string]any{"name": "x", "mount_accessor": "auth_nope", "canonical_id": ext}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.do(logical.UpdateOperation, tt.path, tt.data)
			wantKind(t, err, logical.KindInvalidRequest)
		})
	}
	t.Run("second alias on a group", func(t *testing.T) {
		h.must(logical.UpdateOperation, "group-alias", map[string]any{"name": "x", "mount_accessor": accA, "canonical_id": ext})
		_, err := h.do(logical.UpdateOperation, "group-alias", map[string]any{"name": "y", "mount_accessor": accA, "canonical_id": ext})
		wantKind(t, err, logical.KindInvalidRequest)
		other := h.createGroup(map[string]any{"type": "external"})
		_, err = h.do(logical.UpdateOperation, "group-alias", map[string]any{"name": "x", "mount_accessor": accA, "canonical_id": other})
		wantKind(t, err, logical.KindInvalidRequest)
	})
}

func TestGroupReadAndLists(t *testing.T) {
	h := newHarness(t)
	e := h.createEntity(map[string]any{"name": "e"})
	child := h.createGroup(map[string]any{"name": "child", "member_entity_ids": e, "metadata": map[string]any{"team": "a"}})
	parent := h.createGroup(map[string]any{"name": "parent", "member_group_ids": child})
	ext := h.externalGroup("ext", accA, "idp")

	g := h.must(logical.ReadOperation, "group/name/child", nil)
	checks := map[string]any{"id": child, "name": "child", "type": "internal"}
	for k, want := range checks {
		if g[k] != want {
			t.Errorf("%s = %v, want %v", k, g[k], want)
		}
	}
	if !slices.Equal(ids(t, g, "parent_group_ids"), []string{parent}) || !slices.Equal(ids(t, g, "member_entity_ids"), []string{e}) {
		t.Errorf("child group = %v", g)
	}
	if g["metadata"].(map[string]string)["team"] != "a" || len(g["alias"].(map[string]any)) != 0 {
		t.Errorf("metadata/alias = %v / %v", g["metadata"], g["alias"])
	}
	alias := h.must(logical.ReadOperation, "group/id/"+ext, nil)["alias"].(map[string]any)
	if alias["name"] != "idp" || alias["mount_path"] != "auth/oidc/" || alias["canonical_id"] != ext {
		t.Errorf("external group alias = %v", alias)
	}

	ent := h.must(logical.ReadOperation, "entity/id/"+e, nil)
	if !slices.Equal(ids(t, ent, "direct_group_ids"), []string{child}) || !slices.Equal(ids(t, ent, "inherited_group_ids"), []string{parent}) ||
		!slices.Equal(ids(t, ent, "group_ids"), []string{child, parent}) {
		t.Errorf("entity groups: direct %v inherited %v all %v", ent["direct_group_ids"], ent["inherited_group_ids"], ent["group_ids"])
	}

	list := h.must(logical.ListOperation, "group/id/", nil)
	if len(ids(t, list, "keys")) != 3 {
		t.Errorf("group ids = %v", list["keys"])
	}
	info := list["key_info"].(map[string]any)[child].(map[string]any)
	if info["name"] != "child" || info["num_member_entities"] != 1 || info["num_parent_groups"] != 1 {
		t.Errorf("key_info = %v", info)
	}
	if names := ids(t, h.must(logical.ListOperation, "group/name", nil), "keys"); !slices.Equal(names, []string{"child", "ext", "parent"}) {
		t.Errorf("group names = %v", names)
	}
	aliases := h.must(logical.ListOperation, "group-alias/id", nil)
	if keys := ids(t, aliases, "keys"); len(keys) != 1 || aliases["key_info"].(map[string]any)[keys[0]].(map[string]any)["mount_type"] != "oidc" {
		t.Errorf("group alias list = %v", aliases)
	}

	// Deleting the child group removes it from the parent.
	h.must(logical.DeleteOperation, "group/name/child", nil)
	if got := ids(t, h.must(logical.ReadOperation, "group/id/"+parent, nil), "member_group_ids"); len(got) != 0 {
		t.Errorf("parent still lists deleted child: %v", got)
	}
	if got := ids(t, h.must(logical.ReadOperation, "entity/id/"+e, nil), "group_ids"); len(got) != 0 {
		t.Errorf("entity still in groups %v", got)
	}
}

func TestGroupAliasUpdateAndDelete(t *testing.T) {
	h := newHarness(t)
	g1 := h.createGroup(map[string]any{"name": "g1", "type": "external", "policies": "one"})
	g2 := h.createGroup(map[string]any{"name": "g2", "type": "external", "policies": "two"})
	aid := str(t, h.must(logical.UpdateOperation, "group-alias", map[string]any{"name": "idp", "mount_accessor": accA, "canonical_id": g1}), "id")
	id := h.login(accA, "alice", nil, "idp")
	if p := h.policies(id); !slices.Equal(p, []string{"one"}) {
		t.Fatalf("policies = %v", p)
	}
	h.must(logical.UpdateOperation, "group-alias/id/"+aid, map[string]any{"canonical_id": g2})
	h.login(accA, "alice", nil, "idp")
	if p := h.policies(id); !slices.Equal(p, []string{"two"}) {
		t.Fatalf("after moving the alias, policies = %v", p)
	}
	if a := h.must(logical.ReadOperation, "group/id/"+g1, nil)["alias"].(map[string]any); len(a) != 0 {
		t.Fatalf("old group keeps alias %v", a)
	}
	// Without canonical_id a new external group is created.
	resp := h.must(logical.UpdateOperation, "group-alias", map[string]any{"name": "fresh", "mount_accessor": accB})
	if g := h.must(logical.ReadOperation, "group/id/"+str(t, resp, "canonical_id"), nil); g["type"] != "external" {
		t.Fatalf("created group = %v", g)
	}
	h.must(logical.DeleteOperation, "group-alias/id/"+aid, nil)
	h.login(accA, "alice", nil, "idp")
	if resp, _ := h.do(logical.ReadOperation, "group-alias/id/"+aid, nil); resp != nil {
		t.Fatal("deleted alias readable")
	}
	// The alias is gone, so the next login drops the membership it gave.
	if m := h.members(g2); len(m) != 0 {
		t.Fatalf("g2 members = %v", m)
	}
	if p := h.policies(id); p != nil {
		t.Fatalf("policies = %v", p)
	}
}
