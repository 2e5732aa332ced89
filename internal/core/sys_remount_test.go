package core

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/engine/cubbyhole"
	"github.com/cofferdev/coffer/internal/engine/kv"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// waitMigration polls sys/remount/status/<id> until it leaves in-progress
// and returns its info.
func waitMigration(t *testing.T, c *Core, root, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp := mustDo(t, c, logical.ReadOperation, "sys/remount/status/"+id, root, nil)
		if resp.Data["migration_id"] != id {
			t.Fatalf("status names migration %v; want %s", resp.Data["migration_id"], id)
		}
		info := resp.Data["migration_info"].(map[string]any)
		if info["status"] != migrationInProgress {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("migration %s still in progress", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func remount(t *testing.T, c *Core, root, from, to string) map[string]any {
	t.Helper()
	resp := mustDo(t, c, logical.UpdateOperation, "sys/remount", root, map[string]any{"from": from, "to": to})
	id, _ := resp.Data["migration_id"].(string)
	if id == "" {
		t.Fatalf("remount answered %v; want a migration_id", resp.Data)
	}
	return waitMigration(t, c, root, id)
}

// TestRemountSecretsEngine: a moved engine keeps its data, accessor and
// tuning at the new path, its leases are revoked, the old path is gone,
// and the move survives a seal.
func TestRemountSecretsEngine(t *testing.T) {
	revoked := make(chan string)
	c, root, key := newUnsealedCoreKey(t, Config{Physical: inmem.New(), Factories: map[string]logical.Factory{
		"cubbyhole": cubbyhole.Factory, "kv": kv.Factory, "leasing": leasingFactory(revoked)}})
	mustDo(t, c, logical.UpdateOperation, "sys/mounts/app", root, map[string]any{"type": "kv", "options": map[string]any{"version": "2"},
		"config": map[string]any{"max_lease_ttl": "2h"}})
	mustDo(t, c, logical.UpdateOperation, "app/data/db", root, map[string]any{"data": map[string]any{"password": "s3cret"}})
	mustDo(t, c, logical.UpdateOperation, "sys/mounts/db", root, map[string]any{"type": "leasing"})
	lease := mustDo(t, c, logical.ReadOperation, "db/creds/alice", root, nil).Secret.LeaseID
	before := mustDo(t, c, logical.ReadOperation, "sys/mounts/app", root, nil).Data

	info := remount(t, c, root, "app", "team/app")
	if info["status"] != migrationSuccess || info["source_mount"] != "app/" || info["target_mount"] != "team/app/" {
		t.Fatalf("migration info = %v", info)
	}
	resp := mustDo(t, c, logical.ReadOperation, "team/app/data/db", root, nil)
	if data := resp.Data["data"].(map[string]any); data["password"] != "s3cret" {
		t.Fatalf("moved data = %v", data)
	}
	after := mustDo(t, c, logical.ReadOperation, "sys/mounts/team/app", root, nil).Data
	if after["accessor"] != before["accessor"] || after["uuid"] != before["uuid"] ||
		after["config"].(map[string]any)["max_lease_ttl"] != before["config"].(map[string]any)["max_lease_ttl"] {
		t.Fatalf("mount after the move = %v; before = %v", after, before)
	}
	if _, err := do(t, c, logical.ReadOperation, "app/data/db", root, nil); logical.KindOf(err) != logical.KindUnsupportedPath {
		t.Fatalf("read at the old path: %v; want no handler", err)
	}

	// The revocation blocks until the test takes it from revoked: while it
	// waits, the engine takes no requests at its old path (a lease issued
	// then would escape the revocation).
	id := mustDo(t, c, logical.UpdateOperation, "sys/remount", root, map[string]any{"from": "db", "to": "creds-db"}).Data["migration_id"].(string)
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, err := do(t, c, logical.ReadOperation, "db/creds/bob", root, nil)
		if logical.KindOf(err) == logical.KindUnsupportedPath {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("read from the engine being moved: %v; want no handler", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A probe that ran before the move began may have leased "bob" too.
	users := make(chan []string)
	go func() {
		var got []string
		for u := range revoked {
			got = append(got, u)
		}
		users <- got
	}()
	if info = waitMigration(t, c, root, id); info["status"] != migrationSuccess {
		t.Fatalf("migration info = %v", info)
	}
	close(revoked)
	if got := <-users; !slices.Contains(got, "alice") {
		t.Fatalf("moving the engine revoked %v; want alice's lease among them", got)
	}
	if _, err := do(t, c, logical.UpdateOperation, "sys/leases/lookup", root, map[string]any{"lease_id": lease}); err == nil {
		t.Fatal("the moved engine's lease is still there")
	}
	if s := mustDo(t, c, logical.ReadOperation, "creds-db/creds/bob", root, nil).Secret; s == nil || !strings.HasPrefix(s.LeaseID, "creds-db/creds/bob/") {
		t.Fatalf("lease at the new path = %+v", s)
	}

	// The table was persisted.
	c.Seal(context.Background())
	if err := c.Unseal(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if _, err := do(t, c, logical.ReadOperation, "team/app/data/db", root, nil); err != nil {
		t.Fatalf("read at the new path after a seal: %v", err)
	}
}

// TestRemountAuthMethod: a moved auth method logs in at its new path and
// the tokens it issued before the move are revoked.
func TestRemountAuthMethod(t *testing.T) {
	c, root := newLoginCore(t, nil)
	mustDo(t, c, logical.UpdateOperation, "sys/auth/people", root, map[string]any{"type": "test"})
	tok := mustDo(t, c, logical.UpdateOperation, "auth/people/login/alice", "", map[string]any{"password": "pw"}).Auth.ClientToken
	if info := remount(t, c, root, "auth/people", "auth/staff"); info["status"] != migrationSuccess {
		t.Fatalf("migration info = %v", info)
	}
	if _, err := do(t, c, logical.ReadOperation, "auth/token/lookup-self", tok, nil); logical.KindOf(err) != logical.KindPermissionDenied {
		t.Fatalf("lookup with a token of the moved method: %v; want it revoked", err)
	}
	if _, err := do(t, c, logical.UpdateOperation, "auth/people/login/alice", "", map[string]any{"password": "pw"}); err == nil {
		t.Fatal("login at the old path worked")
	}
	resp := mustDo(t, c, logical.UpdateOperation, "auth/staff/login/alice", "", map[string]any{"password": "pw"})
	if resp.Auth == nil || resp.Auth.ClientToken == "" {
		t.Fatal("no login at the new path")
	}
	auths := mustDo(t, c, logical.ReadOperation, "sys/auth", root, nil).Data
	if _, ok := auths["staff/"]; !ok {
		t.Fatalf("sys/auth = %v; want staff/", auths)
	}
}

// TestRemountRefused: every move that cannot work is refused up front,
// with a message, and nothing changes.
func TestRemountRefused(t *testing.T) {
	c, root := newUnsealedCore(t, Config{Physical: inmem.New(), Factories: map[string]logical.Factory{"cubbyhole": cubbyhole.Factory, "kv": kv.Factory},
		AuthFactories: map[string]logical.Factory{"test": testAuthFactory}})
	mustDo(t, c, logical.UpdateOperation, "sys/mounts/a", root, map[string]any{"type": "kv"})
	mustDo(t, c, logical.UpdateOperation, "sys/mounts/b/c", root, map[string]any{"type": "kv"})
	mustDo(t, c, logical.UpdateOperation, "sys/auth/people", root, map[string]any{"type": "test"})
	for _, tc := range []struct{ from, to, want string }{
		{"", "x", "from"},
		{"a", "", "to"},
		{"a", "bad path!", "to"},
		{"nothere", "x", `no mount at "nothere/"`},
		{"sys", "x", `cannot remount "sys/"`},
		{"cubbyhole", "x", `cannot remount "cubbyhole/"`},
		{"auth/token", "auth/tok", `cannot remount "auth/token/"`},
		{"identity", "x", `cannot remount "identity/"`},
		{"a", "b/c", "already in use at b/c/"},
		{"a", "b", "already in use at b/c/"},
		{"a", "a/sub", "already in use at a/"},
		{"a", "sys/x", "reserved"},
		{"a", "auth/kv", "reserved"},
		{"auth/people", "people", "only to another auth/<path>"},
		{"auth/people", "auth/token", "only to another auth/<path>"},
	} {
		_, err := do(t, c, logical.UpdateOperation, "sys/remount", root, map[string]any{"from": tc.from, "to": tc.to})
		if logical.KindOf(err) != logical.KindInvalidRequest || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("remount %q -> %q: %v; want invalid request saying %q", tc.from, tc.to, err, tc.want)
		}
	}
	if _, err := do(t, c, logical.ReadOperation, "a/k", root, nil); logical.KindOf(err) == logical.KindUnsupportedPath {
		t.Fatal("a refused move took the mount away")
	}
	if resp, err := do(t, c, logical.ReadOperation, "sys/remount/status/no-such-id", root, nil); err != nil || resp != nil {
		t.Fatalf("status of an unknown migration = %v, %v; want nothing (404)", resp, err)
	}
}
