package identity

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"sync"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestLoginCreatesAndReusesEntity(t *testing.T) {
	h := newHarness(t)
	meta := map[string]string{"email": "alice@example.com"}
	id := h.login(accA, "alice", meta)

	e := h.must(logical.ReadOperation, "entity/id/"+id, nil)
	if name := str(t, e, "name"); !regexp.MustCompile(`^entity_[0-9a-f]{8}$`).MatchString(name) || name != "entity_"+id[:8] {
		t.Fatalf("entity name = %q, want entity_<first 8 hex of %s>", name, id)
	}
	aliases := e["aliases"].([]any)
	if len(aliases) != 1 {
		t.Fatalf("aliases = %v", aliases)
	}
	a := aliases[0].(map[string]any)
	for k, want := range map[string]string{"name": "alice", "mount_accessor": accA, "mount_type": "oidc", "mount_path": "auth/oidc/", "canonical_id": id} {
		if got := str(t, a, k); got != want {
			t.Errorf("alias %s = %q, want %q", k, got, want)
		}
	}
	if got := a["metadata"].(map[string]string)["email"]; got != "alice@example.com" {
		t.Errorf("alias metadata email = %q", got)
	}

	tests := []struct {
		name       string
		acc, alias string
		meta       map[string]string
		sameEntity bool
		writes     int64
	}{
		{"same login writes nothing", accA, "alice", map[string]string{"email": "alice@example.com"}, true, 0},
		{"same login again writes nothing", accA, "alice", map[string]string{"email": "alice@example.com"}, true, 0},
		{"changed metadata is one write", accA, "alice", map[string]string{"email": "alice@new.example"}, true, 1},
		{"same name on another mount is another entity", accB, "alice", nil, false, 1},
		{"another name is another entity", accA, "bob", nil, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.st.writes.Load()
			got := h.login(tt.acc, tt.alias, tt.meta)
			if (got == id) != tt.sameEntity {
				t.Fatalf("entity %s, first login's %s, want same=%v", got, id, tt.sameEntity)
			}
			if w := h.st.writes.Load() - before; w != tt.writes {
				t.Fatalf("%d storage writes, want %d", w, tt.writes)
			}
		})
	}
	a = h.must(logical.ReadOperation, "entity/id/"+id, nil)["aliases"].([]any)[0].(map[string]any)
	if got := a["metadata"].(map[string]string)["email"]; got != "alice@new.example" {
		t.Errorf("alias metadata not updated: %q", got)
	}
}

func TestLoginRejectsBadAlias(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name  string
		acc   string
		alias *logical.Alias
	}{
		{"no accessor", "", &logical.Alias{Name: "a"}},
		{"nil alias", accA, nil},
		{"empty name", accA, &logical.Alias{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := h.s.Login(context.Background(), tt.acc, tt.alias, nil); !errors.Is(err, ErrInvalidAlias) {
				t.Fatalf("err = %v, want ErrInvalidAlias", err)
			}
		})
	}
}

func TestLoginSyncsExternalGroups(t *testing.T) {
	h := newHarness(t)
	devs := h.externalGroup("devs", accA, "developers", "dev")
	ops := h.externalGroup("ops", accA, "operators", "ops")
	admins := h.externalGroup("admins", accB, "admins", "admin")
	id := h.login(accA, "alice", nil)
	// A second alias of the same entity on mount B.
	h.must(logical.UpdateOperation, "entity-alias", map[string]any{"name": "alice-b", "mount_accessor": accB, "canonical_id": id})

	tests := []struct {
		name     string
		acc      string
		alias    string
		groups   []string
		wantIn   []string
		wantOut  []string
		policies []string
		writes   int64
	}{
		{"joins known groups, ignores unknown", accA, "alice", []string{"developers", "nobody-knows"}, []string{devs}, []string{ops, admins}, []string{"dev"}, 1},
		{"same groups write nothing", accA, "alice", []string{"nobody-knows", "developers"}, []string{devs}, []string{ops, admins}, []string{"dev"}, 0},
		{"moves between groups in one write", accA, "alice", []string{"operators"}, []string{ops}, []string{devs, admins}, []string{"ops"}, 1},
		{"other mount's groups are separate", accB, "alice-b", []string{"admins", "operators"}, []string{ops, admins}, []string{devs}, []string{"admin", "ops"}, 1},
		{"empty groups leave only this mount's groups", accA, "alice", nil, []string{admins}, []string{devs, ops}, []string{"admin"}, 1},
		{"group name of another mount does not match", accA, "alice", []string{"admins"}, []string{admins}, []string{devs, ops}, []string{"admin"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.st.writes.Load()
			if got := h.login(tt.acc, tt.alias, nil, tt.groups...); got != id {
				t.Fatalf("login gave entity %s, want %s", got, id)
			}
			if w := h.st.writes.Load() - before; w != tt.writes {
				t.Errorf("%d storage writes, want %d", w, tt.writes)
			}
			for _, g := range tt.wantIn {
				if !slices.Contains(h.members(g), id) {
					t.Errorf("entity not in group %s", g)
				}
			}
			for _, g := range tt.wantOut {
				if slices.Contains(h.members(g), id) {
					t.Errorf("entity still in group %s", g)
				}
			}
			if got := h.policies(id); !slices.Equal(got, tt.policies) {
				t.Errorf("policies = %v, want %v", got, tt.policies)
			}
		})
	}
}

func TestLoginConcurrentWithWrites(t *testing.T) {
	h := newHarness(t)
	h.externalGroup("devs", accA, "developers", "dev")
	first := h.login(accA, "alice", nil)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				groups := []string{"developers"}
				if (i+w)%2 == 0 {
					groups = nil
				}
				id, err := h.s.Login(context.Background(), accA, &logical.Alias{Name: "alice"}, groupAliases(groups...))
				if err != nil || id != first {
					errs <- errors.Join(err, errors.New("login gave another entity: "+id))
					return
				}
				if _, err := h.s.Policies(context.Background(), id); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			if _, err := h.do(logical.UpdateOperation, "entity/id/"+first, map[string]any{"policies": []any{"p" + string(rune('a'+i%26))}}); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// The last write set policy "p" + ('a'+49%26) = "px"; every login kept one entity.
	if got := h.policies(first); !slices.Contains(got, "px") {
		t.Fatalf("policies after concurrent writes = %v, want px among them", got)
	}
	if keys := ids(t, h.must(logical.ListOperation, "entity/id/", nil), "keys"); len(keys) != 1 {
		t.Fatalf("entities = %v, want exactly one", keys)
	}
}

func TestEntityForAliasFetchesOrCreatesAndChangesNothingElse(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	devs := h.externalGroup("devs", accA, "developers", "dev")
	id := h.login(accA, "alice", map[string]string{"email": "alice@example.com"}, "developers")

	before := h.st.writes.Load()
	got, err := h.s.EntityForAlias(ctx, accA, "alice")
	if err != nil || got != id {
		t.Fatalf("EntityForAlias(alice) = %q, %v; want the login's entity %s", got, err, id)
	}
	if w := h.st.writes.Load() - before; w != 0 {
		t.Fatalf("fetching an existing alias wrote %d times", w)
	}
	a := h.must(logical.ReadOperation, "entity/id/"+id, nil)["aliases"].([]any)[0].(map[string]any)
	if a["metadata"].(map[string]string)["email"] != "alice@example.com" || !slices.Contains(h.members(devs), id) {
		t.Fatal("EntityForAlias changed the alias's metadata or the entity's groups")
	}

	bob, err := h.s.EntityForAlias(ctx, accA, "bob")
	if err != nil || bob == "" || bob == id {
		t.Fatalf("EntityForAlias(bob) = %q, %v; want a new entity", bob, err)
	}
	if again, _ := h.s.EntityForAlias(ctx, accA, "bob"); again != bob {
		t.Fatalf("second EntityForAlias(bob) = %s; want %s", again, bob)
	}
	if got := h.login(accA, "bob", nil); got != bob {
		t.Fatalf("a login as bob found entity %s; want the one EntityForAlias made, %s", got, bob)
	}
	h.must(logical.UpdateOperation, "entity/id/"+bob, map[string]any{"disabled": true})
	if _, err := h.s.EntityForAlias(ctx, accA, "bob"); !errors.Is(err, ErrEntityDisabled) {
		t.Fatalf("disabled entity: %v; want ErrEntityDisabled", err)
	}
	for _, bad := range [][2]string{{"", "x"}, {accA, ""}} {
		if _, err := h.s.EntityForAlias(ctx, bad[0], bad[1]); !errors.Is(err, ErrInvalidAlias) {
			t.Fatalf("EntityForAlias(%q, %q) = %v; want ErrInvalidAlias", bad[0], bad[1], err)
		}
	}
}
