package approle

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestSecretIDLifecycle(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "role/r", map[string]any{"secret_id_ttl": "1h", "secret_id_num_uses": 5})
	resp := e.Must(logical.UpdateOperation, "role/r/secret-id", map[string]any{
		"metadata": `{"env":"prod"}`, "cidr_list": "10.0.0.0/24", "num_uses": 2, "ttl": "30m",
	})
	secret, accessor := resp.Data["secret_id"].(string), resp.Data["secret_id_accessor"].(string)
	if len(secret) != 36 || len(accessor) != 36 || secret == accessor {
		t.Fatalf("secret id %q accessor %q", secret, accessor)
	}
	if resp.Data["secret_id_ttl"] != int64(1800) || resp.Data["secret_id_num_uses"] != 2 {
		t.Errorf("response = %v", resp.Data)
	}
	// Role defaults apply when the request leaves them out.
	resp = e.Must(logical.UpdateOperation, "role/r/secret-id", nil)
	if resp.Data["secret_id_ttl"] != int64(3600) || resp.Data["secret_id_num_uses"] != 5 {
		t.Errorf("defaults = %v", resp.Data)
	}
	acc2 := resp.Data["secret_id_accessor"].(string)

	look := e.Must(logical.UpdateOperation, "role/r/secret-id/lookup", map[string]any{"secret_id": secret}).Data
	if look["secret_id_accessor"] != accessor || look["secret_id_num_uses"] != 2 ||
		look["metadata"].(map[string]string)["env"] != "prod" || !slices.Equal(look["cidr_list"].([]string), []string{"10.0.0.0/24"}) {
		t.Errorf("lookup = %v", look)
	}
	if look["expiration_time"] != "2026-01-01T00:30:00Z" || look["creation_time"] != "2026-01-01T00:00:00Z" {
		t.Errorf("times = %v %v", look["creation_time"], look["expiration_time"])
	}
	byAcc := e.Must(logical.UpdateOperation, "role/r/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": accessor}).Data
	if byAcc["secret_id_accessor"] != accessor {
		t.Errorf("accessor lookup = %v", byAcc)
	}
	list := e.Must(logical.ListOperation, "role/r/secret-id", nil).Data["keys"].([]string)
	slices.Sort(list)
	want := []string{accessor, acc2}
	slices.Sort(want)
	if !slices.Equal(list, want) {
		t.Errorf("list = %v, want %v", list, want)
	}

	e.Must(logical.UpdateOperation, "role/r/secret-id/destroy", map[string]any{"secret_id": secret})
	if resp := e.Must(logical.UpdateOperation, "role/r/secret-id/lookup", map[string]any{"secret_id": secret}); resp != nil {
		t.Errorf("lookup after destroy = %v", resp.Data)
	}
	if _, err := e.Do(logical.UpdateOperation, "role/r/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": accessor}); err == nil {
		t.Error("accessor survived destroy")
	}
	e.Must(logical.DeleteOperation, "role/r/secret-id-accessor/destroy", map[string]any{"secret_id_accessor": acc2})
	if resp := e.Must(logical.ListOperation, "role/r/secret-id", nil); resp != nil {
		t.Errorf("list after destroying all = %v", resp.Data)
	}
}

func TestSecretIDErrors(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "role/r", map[string]any{
		"secret_id_num_uses": 3, "secret_id_ttl": "1h", "secret_id_bound_cidrs": "10.0.0.0/8", "token_bound_cidrs": "192.168.0.0/16",
	})
	e.Must(logical.UpdateOperation, "role/nobind", map[string]any{"bind_secret_id": false, "token_bound_cidrs": "10.0.0.0/8"})
	e.Must(logical.UpdateOperation, "role/r/custom-secret-id", map[string]any{"secret_id": "taken"})
	tests := []struct {
		name, path string
		data       map[string]any
		want       string
	}{
		{"unknown role", "role/zz/secret-id", nil, "does not exist"},
		{"not bound", "role/nobind/secret-id", nil, "bind_secret_id is not set"},
		{"uses above role", "role/r/secret-id", map[string]any{"num_uses": 4}, "num_uses cannot be higher"},
		{"unlimited uses above role", "role/r/secret-id", map[string]any{"num_uses": 0}, "num_uses cannot be higher"},
		{"negative uses", "role/r/secret-id", map[string]any{"num_uses": -1}, "negative"},
		{"ttl above role", "role/r/secret-id", map[string]any{"ttl": "2h"}, "ttl cannot be longer"},
		{"cidr outside role", "role/r/secret-id", map[string]any{"cidr_list": "11.0.0.0/24"}, "not within"},
		{"cidr wider than role", "role/r/secret-id", map[string]any{"cidr_list": "10.0.0.0/7"}, "not within"},
		{"token cidr outside role", "role/r/secret-id", map[string]any{"token_bound_cidrs": "10.0.0.1"}, "not within"},
		{"bad cidr", "role/r/secret-id", map[string]any{"cidr_list": "10.0.0.300"}, "cidr_list"},
		{"bad metadata", "role/r/secret-id", map[string]any{"metadata": `{"a":1}`}, "metadata"},
		{"empty metadata value", "role/r/secret-id", map[string]any{"metadata": `{"a":""}`}, "metadata"},
		{"custom duplicate", "role/r/custom-secret-id", map[string]any{"secret_id": "taken"}, "already exists"},
		{"custom missing", "role/r/custom-secret-id", map[string]any{}, "secret_id"},
		{"lookup missing", "role/r/secret-id/lookup", map[string]any{}, "secret_id"},
		{"accessor unknown", "role/r/secret-id-accessor/lookup", map[string]any{"secret_id_accessor": "nope"}, "failed to find accessor"},
		{"accessor destroy unknown", "role/r/secret-id-accessor/destroy", map[string]any{"secret_id_accessor": "nope"}, "failed to find accessor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Do(logical.UpdateOperation, tt.path, tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) || logical.KindOf(err) != logical.KindInvalidRequest {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := e.Do(logical.DeleteOperation, "role/r/secret-id/destroy", nil); err == nil || !strings.Contains(err.Error(), "missing secret_id") {
		t.Errorf("DELETE destroy without secret_id: %v", err)
	}
	// Within the role's limits, a narrower CIDR and metadata forms pass.
	for _, meta := range []any{`{"a":"b"}`, "eyJhIjoiYiJ9", "a=b", map[string]any{"a": "b"}} {
		resp := e.Must(logical.UpdateOperation, "role/r/secret-id", map[string]any{"cidr_list": "10.1.0.0/16", "metadata": meta, "num_uses": 2})
		s := resp.Data["secret_id"].(string)
		look := e.Must(logical.UpdateOperation, "role/r/secret-id/lookup", map[string]any{"secret_id": s}).Data
		if look["metadata"].(map[string]string)["a"] != "b" {
			t.Errorf("metadata %v read back as %v", meta, look["metadata"])
		}
	}
}

func TestCustomSecretID(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "role/r", nil)
	resp := e.Must(logical.UpdateOperation, "role/r/custom-secret-id", map[string]any{"secret_id": "my-own-secret", "num_uses": 1})
	if resp.Data["secret_id"] != "my-own-secret" {
		t.Errorf("response = %v", resp.Data)
	}
	if _, err := e.login("1.2.3.4", e.roleID("r"), "my-own-secret"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.login("1.2.3.4", e.roleID("r"), "my-own-secret"); err == nil {
		t.Error("single-use custom secret id logged in twice")
	}
}

// TestNoPlaintextSecretInStorage checks that neither the secret ID, its
// accessor nor the role ID appears in any storage key, and the secret ID in
// no value.
func TestNoPlaintextSecretInStorage(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "role/r", nil)
	secret, accessor := e.secretID("r", nil)
	roleID := e.roleID("r")
	ctx := context.Background()
	var walk func(prefix string)
	walk = func(prefix string) {
		keys, err := e.Storage.List(ctx, prefix)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			full := prefix + k
			for _, s := range []string{secret, accessor, roleID} {
				if strings.Contains(full, s) {
					t.Errorf("key %q holds a plaintext identifier", full)
				}
			}
			if strings.HasSuffix(k, "/") {
				walk(full)
				continue
			}
			ent, err := e.Storage.Get(ctx, full)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(ent.Value), secret) {
				t.Errorf("value at %q holds the secret ID", full)
			}
		}
	}
	walk("")
}

// TestHMACKeyPersists checks a new backend over the same storage (an unseal)
// finds existing secret IDs.
func TestHMACKeyPersists(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "role/r", nil)
	secret, _ := e.secretID("r", nil)
	id := e.roleID("r")
	e.open()
	if _, err := e.login("127.0.0.1", id, secret); err != nil {
		t.Errorf("login after reopen: %v", err)
	}
}

func TestDeleteRoleRevokesSecretIDs(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "role/r", map[string]any{"role_id": "rid"})
	secret, _ := e.secretID("r", nil)
	e.Must(logical.DeleteOperation, "role/r", nil)
	e.Must(logical.UpdateOperation, "role/r", map[string]any{"role_id": "rid"})
	if _, err := e.login("127.0.0.1", "rid", secret); err == nil {
		t.Error("a secret id of a deleted role works on its successor")
	}
	if keys, _ := e.Storage.List(context.Background(), secretIDPrefix); len(keys) != 0 {
		t.Errorf("secret ids left after role delete: %v", keys)
	}
}

func TestTidy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.Must(logical.UpdateOperation, "role/r", nil)
	short, _ := e.secretID("r", map[string]any{"ttl": "1m"})
	long, _ := e.secretID("r", map[string]any{"ttl": "1h"})
	forever, _ := e.secretID("r", nil)
	// Garbage a crash could leave: an orphaned uid and a dangling accessor.
	r, _ := getRole(ctx, e.Storage, "r")
	for _, k := range []string{secretIDKey("dead-uid", "h"), accessorKey(r.UID, "orphan")} {
		op, _ := putOp(k, accessorEntry{SecretIDHMAC: "gone"})
		if err := commit(ctx, e.Storage, op); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(2 * time.Minute)
	resp := e.Must(logical.UpdateOperation, "tidy/secret-id", nil)
	if resp.Data["expired_secret_ids"] != 1 || resp.Data["dangling_accessors"] != 1 || resp.Data["deleted_roles_cleaned"] != 1 {
		t.Errorf("tidy = %v", resp.Data)
	}
	id := e.roleID("r")
	for _, c := range []struct {
		secret string
		ok     bool
	}{{short, false}, {long, true}, {forever, true}} {
		if _, err := e.login("127.0.0.1", id, c.secret); (err == nil) != c.ok {
			t.Errorf("login after tidy: err = %v, want ok=%v", err, c.ok)
		}
	}
	if keys := e.Must(logical.ListOperation, "role/r/secret-id", nil).Data["keys"].([]string); len(keys) != 2 {
		t.Errorf("accessors after tidy = %v", keys)
	}
	if keys, _ := e.Storage.List(ctx, secretIDPrefix); len(keys) != 1 {
		t.Errorf("uids after tidy = %v", keys)
	}
}
