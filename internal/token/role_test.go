package token

import (
	"context"
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// writeRole writes a role as root and fails the test on error.
func (a *api) writeRole(t *testing.T, name string, data map[string]any) {
	t.Helper()
	if _, err := a.asRoot(logical.UpdateOperation, "roles/"+name, data); err != nil {
		t.Fatalf("write role %s: %v", name, err)
	}
}

// readRole returns the data of a role read as root.
func (a *api) readRole(t *testing.T, name string) map[string]any {
	t.Helper()
	resp, err := a.asRoot(logical.ReadOperation, "roles/"+name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp == nil {
		return nil
	}
	b, _ := json.Marshal(resp.Data)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRoleWriteReadListDelete(t *testing.T) {
	a := newAPI(t)
	a.writeRole(t, "web", map[string]any{
		"allowed_policies": "Web, db,web", "disallowed_policies_glob": []any{"Admin-*"},
		"period": "1h", "token_bound_cidrs": "10.0.0.0/8", "path_suffix": "v1.0", "allowed_entity_aliases": "Bob,ci-*,bob",
	})
	got := a.readRole(t, "web")
	want := map[string]any{
		"name": "web", "allowed_policies": []any{"db", "web"}, "allowed_policies_glob": []any{},
		"disallowed_policies": []any{}, "disallowed_policies_glob": []any{"admin-*"}, "allowed_entity_aliases": []any{"bob", "ci-*"},
		"orphan": false, "renewable": true, "path_suffix": "v1.0",
		"token_period": 3600.0, "period": 3600.0, "token_explicit_max_ttl": 0.0, "explicit_max_ttl": 0.0,
		"token_no_default_policy": false, "token_type": "default-service",
		"token_bound_cidrs": []any{"10.0.0.0/8"}, "bound_cidrs": []any{"10.0.0.0/8"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read = %v\nwant %v", got, want)
	}

	// An update changes only what it names; the new spelling wins.
	a.writeRole(t, "web", map[string]any{"renewable": false, "token_period": "2h", "period": "5h", "token_num_uses": 3})
	got = a.readRole(t, "web")
	if got["renewable"] != false || got["token_period"] != 7200.0 || got["token_num_uses"] != 3.0 ||
		!reflect.DeepEqual(got["allowed_policies"], []any{"db", "web"}) || got["path_suffix"] != "v1.0" {
		t.Fatalf("after update: %v", got)
	}

	a.writeRole(t, "Batch", map[string]any{"token_type": "batch", "orphan": true, "renewable": false})
	list, err := a.asRoot(logical.ListOperation, "roles/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if keys := list.Data["keys"]; !reflect.DeepEqual(keys, []string{"Batch", "web"}) {
		t.Fatalf("list = %v; names keep their case", keys)
	}
	if _, err := a.asRoot(logical.DeleteOperation, "roles/web", nil); err != nil {
		t.Fatal(err)
	}
	if got := a.readRole(t, "web"); got != nil {
		t.Fatalf("read after delete = %v", got)
	}
}

func TestRoleWriteRefusesInvalidAndKeepsTheOld(t *testing.T) {
	a := newAPI(t)
	a.writeRole(t, "r", map[string]any{"allowed_policies": "dev"})
	before := a.readRole(t, "r")
	for _, tc := range []struct {
		data map[string]any
		want string
	}{
		{map[string]any{"path_suffix": "v1"}, "path suffix contains invalid characters"},
		{map[string]any{"path_suffix": "a../b"}, "path suffix contains invalid characters"},
		{map[string]any{"path_suffix": "abc/../def"}, "path suffix contains invalid characters"},
		{map[string]any{"token_type": "default"}, ""}, // accepted as default-service, checked below
		{map[string]any{"token_type": "weird"}, `invalid 'token_type' value "weird"`},
		{map[string]any{"token_type": "batch"}, "cannot be 'batch' when role is set to generate non-orphan tokens"},
		{map[string]any{"token_type": "batch", "orphan": true}, "cannot be 'batch' when role is set to generate renewable tokens"},
		{map[string]any{"token_type": "batch", "orphan": true, "renewable": false, "token_period": 60}, "periodic tokens"},
		{map[string]any{"token_type": "batch", "orphan": true, "renewable": false, "token_explicit_max_ttl": 60}, "explicit max TTL"},
		{map[string]any{"token_num_uses": -1}, "'token_num_uses' cannot be negative"},
		{map[string]any{"token_bound_cidrs": "nonsense"}, "token_bound_cidrs"},
		{map[string]any{"orphan": "maybe"}, "orphan"},
	} {
		_, err := a.asRoot(logical.UpdateOperation, "roles/r", tc.data)
		if tc.want == "" {
			if err != nil {
				t.Fatalf("%v: %v", tc.data, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%v: error = %v; want %q", tc.data, err, tc.want)
		}
	}
	after := a.readRole(t, "r")
	if after["token_type"] != "default-service" {
		t.Fatalf("token_type default = %v", after["token_type"])
	}
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("refused writes changed the role:\nbefore %v\nafter  %v", before, after)
	}
	if _, err := a.asRoot(logical.UpdateOperation, "roles/bad name", nil); err == nil {
		t.Fatal("a role name with a space was accepted")
	}
}

// roleCreate creates a token against role as the token raw/e.
func (a *api) roleCreate(raw string, e *Entry, sudo bool, role string, data map[string]any) (*logical.Auth, *Entry, error) {
	resp, err := a.call(logical.UpdateOperation, "create/"+role, raw, e, sudo, data)
	if err != nil {
		return nil, nil, err
	}
	got, err := a.Lookup(context.Background(), resp.Auth.ClientToken)
	return resp.Auth, got, err
}

func TestCreateAgainstRolePolicies(t *testing.T) {
	a := newAPI(t)
	devRaw, dev := mustCreate(t, a.Store, CreateParams{Parent: a.root, Policies: []string{"dev"}})
	a.writeRole(t, "allowed", map[string]any{"allowed_policies": "web,db"})
	a.writeRole(t, "glob", map[string]any{"allowed_policies": "web", "allowed_policies_glob": "team-*"})
	a.writeRole(t, "deny", map[string]any{"disallowed_policies": "admin", "disallowed_policies_glob": "prod-*"})
	a.writeRole(t, "nodefault", map[string]any{"allowed_policies": "web", "token_no_default_policy": true})
	a.writeRole(t, "denydefault", map[string]any{"allowed_policies": "web", "disallowed_policies": "default"})
	a.writeRole(t, "plain", map[string]any{"orphan": false})
	for _, tc := range []struct {
		name, role string
		data       map[string]any
		want       []string
		wantErr    string
	}{
		{name: "allowed names by default", role: "allowed", want: []string{"db", "default", "web"}},
		{name: "subset of allowed", role: "allowed", data: map[string]any{"policies": "db"}, want: []string{"db", "default"}},
		{name: "beyond allowed", role: "allowed", data: map[string]any{"policies": "db,admin"}, wantErr: `token policies (["admin" "db" "default"]) must be subset of the role's allowed policies (["db" "default" "web"]) or glob policies ([])`},
		{name: "allowed need not be the parent's", role: "allowed", data: map[string]any{"policies": "web"}, want: []string{"default", "web"}},
		{name: "glob allows", role: "glob", data: map[string]any{"policies": "team-a,web"}, want: []string{"default", "team-a", "web"}},
		{name: "glob bounds", role: "glob", data: map[string]any{"policies": "teams"}, wantErr: `token policies (["default" "teams"]) must be subset of the role's allowed policies (["default" "web"]) or glob policies (["team-*"])`},
		{name: "disallowed only: parent's by default", role: "deny", want: []string{"default", "dev"}},
		{name: "disallowed only: others allowed", role: "deny", data: map[string]any{"policies": "ops"}, want: []string{"default", "ops"}},
		{name: "disallowed name", role: "deny", data: map[string]any{"policies": "ops,admin"}, wantErr: `token policy "admin" is disallowed by this role`},
		{name: "disallowed glob", role: "deny", data: map[string]any{"policies": "prod-db"}, wantErr: `token policy "prod-db" is disallowed by this role`},
		{name: "role leaves default off", role: "nodefault", want: []string{"web"}},
		{name: "role disallows default", role: "denydefault", want: []string{"web"}},
		{name: "request leaves default off", role: "allowed", data: map[string]any{"no_default_policy": true}, want: []string{"db", "web"}},
		{name: "no lists: parent subset rule", role: "plain", data: map[string]any{"policies": "ops"}, wantErr: "child policies must be subset of parent"},
		{name: "no lists: inherit", role: "plain", want: []string{"default", "dev"}},
		{name: "internal policy", role: "deny", data: map[string]any{"policies": "response-wrapping"}, wantErr: `cannot assign policy "response-wrapping"`},
		{name: "root needs a root parent", role: "deny", data: map[string]any{"policies": "root"}, wantErr: "root tokens may not be created without parent token being root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auth, _, err := a.roleCreate(devRaw, dev, false, tc.role, tc.data)
			if tc.wantErr != "" {
				assertKind(t, err, logical.KindInvalidRequest, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(auth.Policies, tc.want) {
				t.Fatalf("policies = %v; want %v", auth.Policies, tc.want)
			}
		})
	}
}

func TestCreateAgainstRoleSettings(t *testing.T) {
	a := newAPI(t)
	devRaw, dev := mustCreate(t, a.Store, CreateParams{Parent: a.root, Policies: []string{"dev"}})
	a.writeRole(t, "worker", map[string]any{
		"orphan": true, "renewable": false, "token_num_uses": 5, "token_explicit_max_ttl": "2h",
		"token_bound_cidrs": "10.1.0.0/16", "path_suffix": "gen-2",
	})
	auth, e, err := a.roleCreate(devRaw, dev, false, "worker", map[string]any{"num_uses": 9, "explicit_max_ttl": "3h", "ttl": "5h"})
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case !auth.Orphan || e.Parent != "":
		t.Errorf("orphan role made a child (parent %q); no sudo should be needed", e.Parent)
	case auth.Renewable || e.Renewable:
		t.Error("a token of a non-renewable role is renewable")
	case e.NumUses != 5:
		t.Errorf("num_uses = %d; want the role's lower 5", e.NumUses)
	case e.ExplicitMaxTTL != 2*time.Hour || auth.TTL != 2*time.Hour:
		t.Errorf("explicit max %v, ttl %v; want the role's lower 2h capping both", e.ExplicitMaxTTL, auth.TTL)
	case len(e.BoundCIDRs) != 1 || e.BoundCIDRs[0].String() != "10.1.0.0/16":
		t.Errorf("bound CIDRs = %v", e.BoundCIDRs)
	case e.Path != "auth/token/create/worker/gen-2":
		t.Errorf("path = %q", e.Path)
	}
	look, err := a.call(logical.UpdateOperation, "lookup", a.rootRaw, a.root, false, map[string]any{"token": auth.ClientToken})
	if err != nil || look.Data["role"] != "worker" || look.Data["path"] != "auth/token/create/worker/gen-2" {
		t.Fatalf("lookup = %v, %v; want role worker", look, err)
	}
	if _, _, err := a.roleCreate(devRaw, dev, false, "worker", map[string]any{"bound_cidrs": "10.1.2.3"}); err == nil {
		t.Error("bound_cidrs accepted on a role that sets its own")
	}
	// A CIDR-bound caller's role tokens keep its binding, orphans too.
	a.writeRole(t, "orphans", map[string]any{"orphan": true})
	boundRaw, bound := mustCreate(t, a.Store, CreateParams{Parent: a.root, Policies: []string{"dev"},
		BoundCIDRs: []netip.Prefix{netip.MustParsePrefix("192.168.0.0/24")}})
	if _, e, err := a.roleCreate(boundRaw, bound, false, "orphans", nil); err != nil || e.Parent != "" ||
		len(e.BoundCIDRs) != 1 || e.BoundCIDRs[0] != bound.BoundCIDRs[0] {
		t.Errorf("orphan role token of a bound caller: %+v, %v; want an orphan bound to 192.168.0.0/24", e, err)
	}

	// A period from the role needs no sudo; one in the request does.
	a.writeRole(t, "periodic", map[string]any{"token_period": "30m"})
	auth, e, err = a.roleCreate(devRaw, dev, false, "periodic", nil)
	if err != nil || e.Period != 30*time.Minute || auth.TTL != 30*time.Minute || e.Parent != dev.Hash {
		t.Fatalf("periodic role: %+v %v; want a 30m periodic child", e, err)
	}
	if _, _, err := a.roleCreate(devRaw, dev, false, "periodic", map[string]any{"period": "10m"}); err == nil {
		t.Error("a requested period was granted without sudo")
	}
	if _, e, err := a.roleCreate(devRaw, dev, true, "periodic", map[string]any{"period": "10m"}); err != nil || e.Period != 10*time.Minute {
		t.Errorf("sudo period 10m under a 30m role: %v %v; want the lower 10m", e, err)
	}
	// With a role, no_parent is ignored rather than refused.
	if _, e, err := a.roleCreate(devRaw, dev, false, "periodic", map[string]any{"no_parent": true}); err != nil || e.Parent != dev.Hash {
		t.Errorf("no_parent with a role: %v %v; want a child", e, err)
	}
}

func TestCreateAgainstRoleEntityAlias(t *testing.T) {
	a := newAPI(t)
	devRaw, dev := mustCreate(t, a.Store, CreateParams{Parent: a.root, Policies: []string{"dev"}})
	a.writeRole(t, "aliased", map[string]any{"allowed_entity_aliases": "bob,ci-*", "allowed_policies": "dev"})
	a.writeRole(t, "plain", map[string]any{"allowed_policies": "dev"})
	var asked []string
	a.Store.opts.EntityForAlias = func(_ context.Context, name string) (string, error) {
		asked = append(asked, name)
		if name == "ci-disabled" {
			return "", logical.InvalidRequest("entity from given entity alias is disabled")
		}
		return "entity-" + name, nil
	}
	for _, tc := range []struct {
		role, alias string
		data        map[string]any
		entity      string
		wantErr     string
		asked       bool
	}{
		{role: "aliased", alias: "Bob", entity: "entity-bob", asked: true},
		{role: "aliased", alias: "ci-runner", entity: "entity-ci-runner", asked: true},
		{role: "aliased", alias: "eve", wantErr: "invalid 'entity_alias' value"},
		{role: "plain", alias: "bob", wantErr: "invalid 'entity_alias' value"},
		{role: "aliased", alias: "bob", data: map[string]any{"policies": "admin"}, wantErr: "must be subset of the role's allowed policies"},
		{role: "aliased", alias: "ci-disabled", wantErr: "entity from given entity alias is disabled", asked: true},
	} {
		asked = nil
		data := map[string]any{"entity_alias": tc.alias}
		for k, v := range tc.data {
			data[k] = v
		}
		_, e, err := a.roleCreate(devRaw, dev, false, tc.role, data)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s %s: %v; want %q", tc.role, tc.alias, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || e.EntityID != tc.entity || e.Parent != dev.Hash):
			t.Errorf("%s %s: %+v, %v; want a child of entity %s", tc.role, tc.alias, e, err, tc.entity)
		case (len(asked) > 0) != tc.asked:
			t.Errorf("%s %s: identity asked for %v; want asked=%v (never before every check passed)", tc.role, tc.alias, asked, tc.asked)
		}
	}
	a.Store.opts.EntityForAlias = nil
	if _, _, err := a.roleCreate(devRaw, dev, false, "aliased", map[string]any{"entity_alias": "bob"}); err == nil ||
		!strings.Contains(err.Error(), "entity aliases are not available") {
		t.Errorf("without an identity store: %v", err)
	}
}

func TestCreateAgainstRoleTokenType(t *testing.T) {
	a := newAPI(t)
	devRaw, dev := mustCreate(t, a.Store, CreateParams{Parent: a.root, Policies: []string{"dev"}})
	a.writeRole(t, "batch", map[string]any{"token_type": "batch", "orphan": true, "renewable": false})
	a.writeRole(t, "defbatch", map[string]any{"token_type": "default-batch", "orphan": true})
	a.writeRole(t, "service", map[string]any{"token_type": "service"})
	for _, tc := range []struct {
		role, asked, want string
	}{
		{"batch", "", TypeBatch}, {"batch", "service", TypeBatch},
		{"defbatch", "", TypeBatch}, {"defbatch", "service", TypeService},
		{"service", "batch", TypeService},
	} {
		resp, err := a.call(logical.UpdateOperation, "create/"+tc.role, devRaw, dev, false, map[string]any{"type": tc.asked})
		if err != nil {
			t.Fatalf("%s asked %q: %v", tc.role, tc.asked, err)
		}
		if resp.Auth.TokenType != tc.want {
			t.Errorf("role %s, asked %q: type %s; want %s", tc.role, tc.asked, resp.Auth.TokenType, tc.want)
		}
		if tc.want == TypeBatch && !strings.HasPrefix(resp.Auth.ClientToken, BatchPrefix) {
			t.Errorf("role %s: a batch token without the batch prefix", tc.role)
		}
	}
	if _, err := a.call(logical.UpdateOperation, "create/batch", devRaw, dev, false, map[string]any{"num_uses": 2}); err == nil {
		t.Error("a batch role token took a use limit")
	}
}

func TestRoleTokenRenewal(t *testing.T) {
	a := newAPI(t)
	backend := a.b.(logical.AuthRenewer)
	a.writeRole(t, "r", map[string]any{"token_period": "1h", "token_explicit_max_ttl": "10h"})
	renew := func(path string, own *logical.Auth) (*logical.Auth, error) {
		return backend.RenewAuth(context.Background(), &logical.Request{Path: path, Storage: a.roles}, own)
	}
	got, err := renew("create/r/gen-1", &logical.Auth{TTL: time.Hour, Period: 2 * time.Hour})
	if err != nil || got == nil || got.Period != time.Hour || got.ExplicitMaxTTL != 10*time.Hour || got.TTL != time.Hour {
		t.Fatalf("role token terms = %+v, %v; want the role's period and explicit max", got, err)
	}
	for _, path := range []string{"create", "create-orphan", "root"} {
		if got, err := renew(path, &logical.Auth{TTL: time.Hour}); got != nil || err != nil {
			t.Fatalf("%s: terms %+v, %v; want nil (own terms)", path, got, err)
		}
	}
	a.writeRole(t, "r", map[string]any{"token_period": 0})
	if got, err := renew("create/r", &logical.Auth{TTL: time.Hour, Period: 20 * time.Minute}); err != nil || got.Period != 20*time.Minute {
		t.Fatalf("role without a period: %+v, %v; want the token's own 20m", got, err)
	}
	if _, err := a.asRoot(logical.DeleteOperation, "roles/r", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := renew("create/r", &logical.Auth{TTL: time.Hour}); err == nil || !strings.Contains(err.Error(), `original token role "r" could not be found`) {
		t.Fatalf("renewal after the role was deleted: %v", err)
	}
	if roleOfPath("create/x/y") != "x" || roleOfPath("create-orphan") != "" || roleOfPath("lookup/x") != "" {
		t.Fatal("roleOfPath misreads paths")
	}
}
