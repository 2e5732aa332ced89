package identity

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestEntityCreateReadUpdate(t *testing.T) {
	h := newHarness(t)
	resp := h.must(logical.UpdateOperation, "entity", map[string]any{
		"name": "alice", "policies": []any{"b", "a", "b"}, "metadata": map[string]any{"team": "x"},
	})
	id := str(t, resp, "id")
	if resp["name"] != "alice" {
		t.Fatalf("create response = %v", resp)
	}
	steps := []struct {
		name     string
		op       logical.Operation
		path     string
		data     map[string]any
		wantResp bool // a create answers with data, an update with 204 (nil)
		wantErr  bool
		check    func(t *testing.T, e map[string]any)
	}{
		{name: "update by name through POST entity", op: logical.UpdateOperation, path: "entity",
			data: map[string]any{"name": "alice", "disabled": true},
			check: func(t *testing.T, e map[string]any) {
				if e["disabled"] != true || !slices.Equal(ids(t, e, "policies"), []string{"a", "b"}) {
					t.Errorf("entity = %v", e)
				}
			}},
		{name: "update by id keeps unsent fields", op: logical.UpdateOperation, path: "entity/id/" + id,
			data: map[string]any{"disabled": false},
			check: func(t *testing.T, e map[string]any) {
				if e["disabled"] != false || e["metadata"].(map[string]string)["team"] != "x" {
					t.Errorf("entity = %v", e)
				}
			}},
		{name: "rename by id", op: logical.UpdateOperation, path: "entity/id/" + id,
			data: map[string]any{"name": "alice2"},
			check: func(t *testing.T, e map[string]any) {
				if e["name"] != "alice2" {
					t.Errorf("name = %v", e["name"])
				}
			}},
		{name: "entity/name creates", op: logical.UpdateOperation, path: "entity/name/bob", wantResp: true},
		{name: "duplicate name refused", op: logical.UpdateOperation, path: "entity/id/" + id,
			data: map[string]any{"name": "bob"}, wantErr: true},
		{name: "unknown id refused", op: logical.UpdateOperation, path: "entity/id/nope", wantErr: true},
		{name: "POST entity with unknown id refused", op: logical.UpdateOperation, path: "entity",
			data: map[string]any{"id": "nope"}, wantErr: true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			resp, err := h.do(st.op, st.path, st.data)
			if st.wantErr {
				wantKind(t, err, logical.KindInvalidRequest)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (resp != nil) != st.wantResp {
				t.Fatalf("response = %v, want data: %v", resp, st.wantResp)
			}
			if st.check != nil {
				st.check(t, h.must(logical.ReadOperation, "entity/id/"+id, nil))
			}
		})
	}
	if names := ids(t, h.must(logical.ListOperation, "entity/name/", nil), "keys"); !slices.Equal(names, []string{"alice2", "bob"}) {
		t.Fatalf("names = %v", names)
	}
}

func TestEntityDelete(t *testing.T) {
	h := newHarness(t)
	alice := h.login(accA, "alice", nil)
	bob := h.login(accA, "bob", nil)
	carol := h.login(accA, "carol", nil)
	g := h.createGroup(map[string]any{"name": "g", "member_entity_ids": []any{alice, bob, carol}})
	aliceAlias := aliasOnMount(t, h, alice, accA)

	tests := []struct {
		name    string
		op      logical.Operation
		path    string
		data    map[string]any
		deleted []string
		// writes: entity and group changes go in one storage transaction.
		writes int64
	}{
		{"by id", logical.DeleteOperation, "entity/id/" + alice, nil, []string{alice}, 1},
		{"unknown id is a no-op", logical.DeleteOperation, "entity/id/nope", nil, nil, 0},
		{"batch", logical.UpdateOperation, "entity/batch-delete", map[string]any{"entity_ids": []any{bob, carol, "nope"}}, []string{bob, carol}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.st.writes.Load()
			if _, err := h.do(tt.op, tt.path, tt.data); err != nil {
				t.Fatal(err)
			}
			if w := h.st.writes.Load() - before; w != tt.writes {
				t.Errorf("%d storage writes, want %d", w, tt.writes)
			}
			for _, id := range tt.deleted {
				if resp, _ := h.do(logical.ReadOperation, "entity/id/"+id, nil); resp != nil {
					t.Errorf("entity %s still readable", id)
				}
				if slices.Contains(h.members(g), id) {
					t.Errorf("entity %s still a member of the group", id)
				}
				if _, err := h.st.Get(context.Background(), entityPrefix+id); err == nil {
					t.Errorf("entity %s still in storage", id)
				}
			}
		})
	}
	if resp, _ := h.do(logical.ReadOperation, "entity-alias/id/"+aliceAlias, nil); resp != nil {
		t.Fatal("deleted entity's alias is still readable")
	}
	if again := h.login(accA, "alice", nil); again == alice {
		t.Fatal("login after delete reused the deleted entity")
	}
	if _, err := h.do(logical.UpdateOperation, "entity/batch-delete", map[string]any{}); err == nil {
		t.Fatal("batch delete without ids accepted")
	}
}

func TestEntityAliasAPI(t *testing.T) {
	h := newHarness(t)
	e1 := h.createEntity(map[string]any{"name": "e1"})
	e2 := h.createEntity(map[string]any{"name": "e2"})
	a1 := str(t, h.must(logical.UpdateOperation, "entity-alias", map[string]any{"name": "u1", "mount_accessor": accA, "canonical_id": e1}), "id")
	tests := []struct {
		name    string
		path    string
		data    map[string]any
		wantErr bool
	}{
		{"unknown mount accessor", "entity-alias", map[string]any{"name": "x", "mount_accessor": "auth_nope", "canonical_id": e1}, true},
		{"missing name", "entity-alias", map[string]any{"mount_accessor": accA, "canonical_id": e1}, true},
		{"second alias on one mount", "entity-alias", map[string]any{"name": "u1-bis", "mount_accessor": accA, "canonical_id": e1}, true},
		{"taken mount and name on another entity", "entity-alias", map[string]any{"name": "u1", "mount_accessor": accA, "canonical_id": e2}, true},
		{"unknown canonical id", "entity-alias", map[string]any{"name": "x", "mount_accessor": accA, "canonical_id": "nope"}, true},
		{"unknown alias id", "entity-alias/id/nope", map[string]any{"name": "x"}, true},
		{"same mount and name is an update", "entity-alias", map[string]any{"name": "u1", "mount_accessor": accA, "custom_metadata": map[string]any{"k": "v"}}, false},
		{"move to another entity", "entity-alias/id/" + a1, map[string]any{"canonical_id": e2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.do(logical.UpdateOperation, tt.path, tt.data)
			if tt.wantErr {
				wantKind(t, err, logical.KindInvalidRequest)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	a := h.must(logical.ReadOperation, "entity-alias/id/"+a1, nil)
	if a["canonical_id"] != e2 || a["custom_metadata"].(map[string]string)["k"] != "v" || a["mount_type"] != "oidc" {
		t.Fatalf("alias = %v", a)
	}
	if n := len(h.must(logical.ReadOperation, "entity/id/"+e1, nil)["aliases"].([]any)); n != 0 {
		t.Fatalf("e1 keeps %d aliases after the move", n)
	}
	if got := h.login(accA, "u1", nil); got != e2 {
		t.Fatalf("login with moved alias gave %s, want %s", got, e2)
	}
	// Without canonical_id a new entity is created for the alias.
	created := h.must(logical.UpdateOperation, "entity-alias", map[string]any{"name": "solo", "mount_accessor": accB})
	if h.must(logical.ReadOperation, "entity/id/"+str(t, created, "canonical_id"), nil) == nil {
		t.Fatal("no entity created for the alias")
	}
	list := h.must(logical.ListOperation, "entity-alias/id", nil)
	if keys := ids(t, list, "keys"); len(keys) != 2 || list["key_info"].(map[string]any)[a1].(map[string]any)["canonical_id"] != e2 {
		t.Fatalf("alias list = %v", list)
	}
	h.must(logical.DeleteOperation, "entity-alias/id/"+a1, nil)
	if h.must(logical.ReadOperation, "entity/id/"+e2, nil) == nil {
		t.Fatal("deleting an alias deleted its entity")
	}
	if got := h.login(accA, "u1", nil); got == e2 {
		t.Fatal("deleted alias still logs in as its entity")
	}
}

func TestEntityListKeyInfo(t *testing.T) {
	h := newHarness(t)
	if resp, err := h.do(logical.ListOperation, "entity/id/", nil); resp != nil || err != nil {
		t.Fatalf("empty list = %v, %v; want nil (404)", resp, err)
	}
	id := h.login(accB, "alice", nil)
	list := h.must(logical.ListOperation, "entity/id", nil)
	info := list["key_info"].(map[string]any)[id].(map[string]any)
	aliases := info["aliases"].([]any)
	if !slices.Equal(ids(t, list, "keys"), []string{id}) || len(aliases) != 1 || aliases[0].(map[string]any)["mount_path"] != "auth/userpass/" {
		t.Fatalf("list = %v", list)
	}
}

func TestLookup(t *testing.T) {
	h := newHarness(t)
	e := h.login(accA, "alice", nil)
	eName := str(t, h.must(logical.ReadOperation, "entity/id/"+e, nil), "name")
	eAlias := aliasOnMount(t, h, e, accA)
	g := h.externalGroup("devs", accA, "developers")
	gAlias := str(t, h.must(logical.ReadOperation, "group/id/"+g, nil)["alias"].(map[string]any), "id")
	tests := []struct {
		name    string
		path    string
		data    map[string]any
		wantID  string // "" means 204 (nil response)
		wantErr bool
	}{
		{"entity by id", "lookup/entity", map[string]any{"id": e}, e, false},
		{"entity by name", "lookup/entity", map[string]any{"name": eName}, e, false},
		{"entity by alias id", "lookup/entity", map[string]any{"alias_id": eAlias}, e, false},
		{"entity by alias name", "lookup/entity", map[string]any{"alias_name": "alice", "alias_mount_accessor": accA}, e, false},
		{"entity alias name on other mount", "lookup/entity", map[string]any{"alias_name": "alice", "alias_mount_accessor": accB}, "", false},
		{"unknown entity", "lookup/entity", map[string]any{"name": "nobody"}, "", false},
		{"two criteria", "lookup/entity", map[string]any{"name": eName, "id": e}, "", true},
		{"no criteria", "lookup/entity", map[string]any{}, "", true},
		{"alias name without accessor", "lookup/entity", map[string]any{"alias_name": "alice"}, "", true},
		{"group by id", "lookup/group", map[string]any{"id": g}, g, false},
		{"group by name", "lookup/group", map[string]any{"name": "devs"}, g, false},
		{"group by alias id", "lookup/group", map[string]any{"alias_id": gAlias}, g, false},
		{"group by alias name", "lookup/group", map[string]any{"alias_name": "developers", "alias_mount_accessor": accA}, g, false},
		{"unknown group", "lookup/group", map[string]any{"id": "nope"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := h.do(logical.UpdateOperation, tt.path, tt.data)
			switch {
			case tt.wantErr:
				wantKind(t, err, logical.KindInvalidRequest)
			case err != nil:
				t.Fatal(err)
			case tt.wantID == "":
				if resp != nil {
					t.Fatalf("response = %v, want nil (204)", resp.Data)
				}
			case resp == nil || resp.Data["id"] != tt.wantID:
				t.Fatalf("response = %v, want id %s", resp, tt.wantID)
			}
		})
	}
}

func TestEntityCopy(t *testing.T) {
	h := newHarness(t)
	id := h.login(accA, "alice", map[string]string{"k": "v"})
	e, err := h.s.Entity(context.Background(), id)
	if err != nil || e.ID != id || len(e.Aliases) != 1 {
		t.Fatalf("Entity = %+v, %v", e, err)
	}
	e.Aliases[0].Metadata["k"] = "changed"
	e.Policies = append(e.Policies, "root")
	again, _ := h.s.Entity(context.Background(), id)
	if again.Aliases[0].Metadata["k"] != "v" || len(again.Policies) != 0 {
		t.Fatal("Entity returned shared state")
	}
	if _, err := h.s.Entity(context.Background(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown entity: %v", err)
	}
}

func TestMetadataForms(t *testing.T) {
	h := newHarness(t)
	id := h.createEntity(map[string]any{"name": "e"})
	tests := []struct {
		name    string
		value   any
		want    map[string]string
		wantErr bool
	}{
		{"object", map[string]any{"team": "x", "env": "prod"}, map[string]string{"team": "x", "env": "prod"}, false},
		{"key=value string", "team=y", map[string]string{"team": "y"}, false},
		{"list of key=value", []any{"a=1", "b=c=d"}, map[string]string{"a": "1", "b": "c=d"}, false},
		{"empty string clears", "", map[string]string{}, false},
		{"non-string value", map[string]any{"n": 1.0}, nil, true},
		{"pair without =", []any{"oops"}, nil, true},
		{"empty key", "=v", nil, true},
		{"number", 3.0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.do(logical.UpdateOperation, "entity/id/"+id, map[string]any{"metadata": tt.value})
			if tt.wantErr {
				wantKind(t, err, logical.KindInvalidRequest)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := h.must(logical.ReadOperation, "entity/id/"+id, nil)["metadata"].(map[string]string)
			if !maps.Equal(got, tt.want) {
				t.Fatalf("metadata = %v, want %v", got, tt.want)
			}
		})
	}
}
