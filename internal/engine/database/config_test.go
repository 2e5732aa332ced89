package database

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func stringify(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "%q: %v\n", k, m[k])
	}
	return sb.String()
}

func TestConfigAndRoleValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		path string
		data map[string]any
		kind logical.Kind
	}{
		{"wrong plugin", "config/x", map[string]any{"plugin_name": "mysql-database-plugin", "connection_url": "postgres://a"}, logical.KindInvalidRequest},
		{"bad root password", "config/x", map[string]any{"plugin_name": PluginName, "connection_url": e.pg.TemplateURL(),
			"username": adminUser, "password": "wrong-password"}, logical.KindInvalidRequest},
		{"missing url", "config/x", map[string]any{"plugin_name": PluginName}, logical.KindInvalidRequest},
		{"bad username template", "config/x", map[string]any{"plugin_name": PluginName, "connection_url": "x",
			"verify_connection": false, "username_template": "{{"}, logical.KindInvalidRequest},
		{"role without statements", "roles/x", map[string]any{"db_name": "pg"}, logical.KindInvalidRequest},
		{"role default over max", "roles/x", map[string]any{"db_name": "pg", "creation_statements": "x",
			"default_ttl": 10, "max_ttl": 5}, logical.KindInvalidRequest},
		{"static role short period", "static-roles/x", map[string]any{"db_name": "pg", "username": "u",
			"rotation_period": 1}, logical.KindInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.do(logical.UpdateOperation, tc.path, tc.data)
			if err == nil || logical.KindOf(err) != tc.kind {
				t.Fatalf("err = %v, want kind %v", err, tc.kind)
			}
			if err != nil && strings.Contains(err.Error(), "wrong-password") {
				t.Fatalf("error exposes the password: %v", err)
			}
		})
	}
	t.Run("allowed_roles", func(t *testing.T) {
		e.must(t, logical.UpdateOperation, "config/pg", map[string]any{"allowed_roles": "other"})
		if _, err := e.do(logical.ReadOperation, "creds/ro", nil); logical.KindOf(err) != logical.KindInvalidRequest {
			t.Fatalf("creds for a role not in allowed_roles: %v", err)
		}
	})
	t.Run("lists", func(t *testing.T) {
		for path, want := range map[string]string{"config/": "pg", "roles/": "ro"} {
			resp := e.must(t, logical.ListOperation, path, nil)
			if keys := resp.Data["keys"].([]string); len(keys) != 1 || keys[0] != want {
				t.Fatalf("LIST %s = %v", path, keys)
			}
		}
	})
	t.Run("role read", func(t *testing.T) {
		resp := e.must(t, logical.ReadOperation, "roles/ro", nil)
		if resp.Data["default_ttl"] != int64(3600) || resp.Data["max_ttl"] != int64(7200) ||
			len(resp.Data["creation_statements"].([]string)) != 2 {
			t.Fatalf("role = %v", resp.Data)
		}
	})
}
