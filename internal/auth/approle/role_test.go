package approle

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestRoleLifecycle(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "role/Web", map[string]any{
		"token_policies": "web,ops", "token_ttl": "20m", "secret_id_num_uses": 10, "secret_id_ttl": "1h",
		"secret_id_bound_cidrs": "10.0.0.0/8", "period": 0,
	})
	e.Must(logical.UpdateOperation, "role/batch", map[string]any{"token_type": "batch"})

	data := e.Must(logical.ReadOperation, "role/web", nil).Data
	want := map[string]any{
		"bind_secret_id": true, "secret_id_num_uses": 10, "secret_id_ttl": int64(3600),
		"local_secret_ids": false, "token_ttl": int64(1200), "token_type": "default",
	}
	for k, v := range want {
		if data[k] != v {
			t.Errorf("%s = %v, want %v", k, data[k], v)
		}
	}
	if got := data["secret_id_bound_cidrs"].([]string); !slices.Equal(got, []string{"10.0.0.0/8"}) {
		t.Errorf("secret_id_bound_cidrs = %v", got)
	}
	if got := data["token_policies"].([]string); !slices.Equal(got, []string{"ops", "web"}) {
		t.Errorf("token_policies = %v", got)
	}
	if _, ok := data["role_id"]; ok {
		t.Error("role read shows the role ID")
	}
	if keys := e.Must(logical.ListOperation, "role", nil).Data["keys"]; !slices.Equal(keys.([]string), []string{"batch", "web"}) {
		t.Errorf("list = %v", keys)
	}

	// An update changes only what it names and keeps the role ID.
	id := e.roleID("web")
	e.Must(logical.UpdateOperation, "role/web", map[string]any{"secret_id_num_uses": 3})
	if got := e.Must(logical.ReadOperation, "role/web", nil).Data; got["secret_id_num_uses"] != 3 || got["token_ttl"] != int64(1200) {
		t.Errorf("after update: %v", got)
	}
	if e.roleID("web") != id {
		t.Error("update changed the role ID")
	}

	e.Must(logical.DeleteOperation, "role/WEB", nil)
	if resp := e.Must(logical.ReadOperation, "role/web", nil); resp != nil {
		t.Errorf("read after delete: %v", resp.Data)
	}
	if resp := e.Must(logical.ReadOperation, "role/web/role-id", nil); resp != nil {
		t.Errorf("role-id after delete: %v", resp.Data)
	}
}

func TestRoleID(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "role/a", map[string]any{"role_id": "custom-a"})
	e.Must(logical.UpdateOperation, "role/b", nil)
	if got := e.roleID("a"); got != "custom-a" {
		t.Errorf("custom role id = %q", got)
	}
	if got := e.roleID("b"); len(got) != 36 || strings.Count(got, "-") != 4 {
		t.Errorf("generated role id = %q, want a UUID", got)
	}
	secret, _ := e.secretID("a", nil)
	tests := []struct {
		name, path string
		data       map[string]any
		want       string
	}{
		{"taken by create", "role/c", map[string]any{"role_id": "custom-a"}, "role_id already in use"},
		{"taken by role-id path", "role/b/role-id", map[string]any{"role_id": "custom-a"}, "role_id already in use"},
		{"empty", "role/b/role-id", map[string]any{"role_id": ""}, "missing role_id"},
		{"unknown role", "role/zz/role-id", map[string]any{"role_id": "x"}, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Do(logical.UpdateOperation, tt.path, tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) || logical.KindOf(err) != logical.KindInvalidRequest {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	// Changing the role ID moves logins to the new one.
	e.Must(logical.UpdateOperation, "role/a/role-id", map[string]any{"role_id": "new-a"})
	if _, err := e.login("127.0.0.1", "custom-a", secret); err == nil {
		t.Error("old role id still logs in")
	}
	if _, err := e.login("127.0.0.1", "new-a", secret); err != nil {
		t.Errorf("new role id: %v", err)
	}
	// The old role ID is free again.
	e.Must(logical.UpdateOperation, "role/b/role-id", map[string]any{"role_id": "custom-a"})
}

func TestRoleWriteErrors(t *testing.T) {
	tests := []struct {
		name string
		data map[string]any
		want string
	}{
		{"no constraint", map[string]any{"bind_secret_id": false}, "at least one constraint"},
		{"negative uses", map[string]any{"secret_id_num_uses": -1}, "cannot be negative"},
		{"bad cidr", map[string]any{"secret_id_bound_cidrs": "10.0.0.0/33"}, "secret_id_bound_cidrs"},
		{"bad token cidr", map[string]any{"token_bound_cidrs": "x"}, "token_bound_cidrs"},
		{"batch periodic", map[string]any{"token_type": "batch", "token_period": "1h"}, "periodic"},
		{"bad bool", map[string]any{"bind_secret_id": "maybe"}, "bind_secret_id"},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Do(logical.UpdateOperation, "role/r", tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if resp := e.Must(logical.ReadOperation, "role/r", nil); resp != nil {
		t.Error("a refused create stored a role")
	}
	// A role without a secret ID is fine when bound to CIDRs.
	e.Must(logical.UpdateOperation, "role/r", map[string]any{"bind_secret_id": false, "bound_cidr_list": "10.0.0.0/8"})
	e.Must(logical.UpdateOperation, "role/local", map[string]any{"local_secret_ids": true})
	if _, err := e.Do(logical.UpdateOperation, "role/local", map[string]any{"local_secret_ids": false}); err == nil {
		t.Error("local_secret_ids changed after creation")
	}
	e.Must(logical.UpdateOperation, "role/local", map[string]any{"local_secret_ids": true})
}

func TestRoleFieldPaths(t *testing.T) {
	tests := []struct {
		path      string
		set       map[string]any
		field     string
		want, def any
	}{
		{"policies", map[string]any{"policies": "b,a"}, "token_policies", []string{"a", "b"}, []string{}},
		{"secret-id-num-uses", map[string]any{"secret_id_num_uses": 7}, "secret_id_num_uses", 7, 0},
		{"secret-id-ttl", map[string]any{"secret_id_ttl": "10m"}, "secret_id_ttl", int64(600), int64(0)},
		{"secret-id-bound-cidrs", map[string]any{"secret_id_bound_cidrs": "10.1.0.0/16"}, "secret_id_bound_cidrs", []string{"10.1.0.0/16"}, []string{}},
		{"bind-secret-id", map[string]any{"bind_secret_id": false}, "bind_secret_id", false, true},
		{"period", map[string]any{"period": "1h"}, "period", int64(3600), int64(0)},
		{"token-num-uses", map[string]any{"token_num_uses": 4}, "token_num_uses", 4, 0},
		{"token-ttl", map[string]any{"token_ttl": 60}, "token_ttl", int64(60), int64(0)},
		{"token-max-ttl", map[string]any{"token_max_ttl": "2h"}, "token_max_ttl", int64(7200), int64(0)},
		{"token-bound-cidrs", map[string]any{"token_bound_cidrs": "127.0.0.1"}, "token_bound_cidrs", []string{"127.0.0.1/32"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			e := newEnv(t)
			e.Must(logical.UpdateOperation, "role/r", map[string]any{"token_bound_cidrs": "0.0.0.0/0"})
			if tt.path == "token-bound-cidrs" {
				e.Must(logical.UpdateOperation, "role/r", map[string]any{"token_bound_cidrs": ""})
			}
			p := "role/r/" + tt.path
			e.Must(logical.UpdateOperation, p, tt.set)
			if got := e.Must(logical.ReadOperation, p, nil).Data[tt.field]; !equal(got, tt.want) {
				t.Errorf("after set: %s = %#v, want %#v", tt.field, got, tt.want)
			}
			if _, err := e.Do(logical.DeleteOperation, p, nil); err != nil {
				t.Fatalf("reset: %v", err)
			}
			if got := e.Must(logical.ReadOperation, p, nil).Data[tt.field]; !equal(got, tt.def) {
				t.Errorf("after reset: %s = %#v, want %#v", tt.field, got, tt.def)
			}
			if _, err := e.Do(logical.UpdateOperation, p, map[string]any{}); err == nil {
				t.Error("empty set accepted")
			}
		})
	}
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "role/r", map[string]any{"local_secret_ids": true})
	if got := e.Must(logical.ReadOperation, "role/r/local-secret-ids", nil).Data["local_secret_ids"]; got != true {
		t.Errorf("local-secret-ids = %v", got)
	}
	if _, err := e.Do(logical.UpdateOperation, "role/r/local-secret-ids", map[string]any{"local_secret_ids": false}); err == nil {
		t.Error("local-secret-ids is writable")
	}
}

func equal(a, b any) bool {
	if as, ok := a.([]string); ok {
		bs, ok := b.([]string)
		return ok && slices.Equal(as, bs)
	}
	return a == b
}

func TestLoginPather(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		path       string
		data       map[string]any
		wantUnauth bool
		wantID     string
	}{
		{"login", map[string]any{"role_id": "rid"}, true, "rid"},
		{"login", nil, true, ""},
		{"role/x", nil, false, ""},
		{"tidy/secret-id", nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			unauth, id := e.b.LoginPath(&logical.Request{Path: tt.path, Data: tt.data})
			if unauth != tt.wantUnauth || id != tt.wantID {
				t.Errorf("LoginPath = %v %q", unauth, id)
			}
		})
	}
}

func TestFactory(t *testing.T) {
	if _, err := Factory(context.Background(), nil); err != ErrNilConfig {
		t.Errorf("nil config: %v", err)
	}
	b, err := Factory(context.Background(), &logical.BackendConfig{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.HandleRequest(context.Background(), &logical.Request{Operation: logical.ListOperation, Path: "role"})
	if err == nil || logical.KindOf(err) != logical.KindInternal {
		t.Errorf("request without storage: %v", err)
	}
}

// TestConcurrentRoleIDClaims races roles for one custom role ID: exactly
// one gets it.
func TestConcurrentRoleIDClaims(t *testing.T) {
	e := newEnv(t)
	e.Storage = slowStorage{e.Storage}
	var wg sync.WaitGroup
	var won atomic.Int32
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.Do(logical.UpdateOperation, fmt.Sprintf("role/r%d", i), map[string]any{"role_id": "shared"})
			switch {
			case err == nil:
				won.Add(1)
			case !strings.Contains(err.Error(), "role_id already in use"):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Errorf("%d roles got the role ID, want 1", won.Load())
	}
}
