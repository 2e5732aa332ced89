package core

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cofferdev/coffer/internal/engine/cubbyhole"
	"github.com/cofferdev/coffer/internal/engine/kv"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

func newKVCore(t *testing.T) (*Core, string, []byte) {
	t.Helper()
	return newUnsealedCoreKey(t, Config{Physical: inmem.New(), Factories: map[string]logical.Factory{"kv": kv.Factory, "cubbyhole": cubbyhole.Factory}})
}

// storedKeys lists every barrier key under prefix.
func storedKeys(t *testing.T, c *Core, prefix string) []string {
	t.Helper()
	var out []string
	var walk func(p string)
	walk = func(p string) {
		keys, err := c.barrier.List(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if strings.HasSuffix(k, "/") {
				walk(p + k)
			} else {
				out = append(out, p+k)
			}
		}
	}
	walk(prefix)
	return out
}

// mountEntry returns the live mount table entry at path.
func mountEntry(t *testing.T, c *Core, path string) *MountEntry {
	t.Helper()
	st, done, err := c.state()
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	return st.mounts.get(path)
}

// TestKVUpgrade tunes a KV v1 mount to version 2, as `kv enable-versioning`
// does: every secret becomes version 1 of its key, the mount keeps its
// path, accessor and tuning, the v1 data is wiped, and it all survives a
// seal.
func TestKVUpgrade(t *testing.T) {
	c, root, key := newKVCore(t)
	mustDo(t, c, logical.UpdateOperation, "sys/mounts/old", root, map[string]any{"type": "kv", "config": map[string]any{"max_lease_ttl": "2h"}})
	secrets := map[string]string{"db": "pw1", "team/a/b": "pw2", "config": "pw3", "metadata/x": "pw4"}
	for p, v := range secrets {
		mustDo(t, c, logical.UpdateOperation, "old/"+p, root, map[string]any{"password": v})
	}
	before := mustDo(t, c, logical.ReadOperation, "sys/mounts/old", root, nil).Data
	oldView := viewPrefix(mountEntry(t, c, "old/"))

	resp := mustDo(t, c, logical.UpdateOperation, "sys/mounts/old/tune", root, map[string]any{"options": map[string]any{"version": "2"}})
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "4 secrets") {
		t.Fatalf("tune warnings = %v", resp.Warnings)
	}
	check := func() {
		t.Helper()
		for p, v := range secrets {
			r := mustDo(t, c, logical.ReadOperation, "old/data/"+p, root, nil)
			if r.Data["data"].(map[string]any)["password"] != v || r.Data["metadata"].(map[string]any)["version"] != uint64(1) {
				t.Fatalf("old/data/%s = %v; want version 1 with %s", p, r.Data, v)
			}
		}
		after := mustDo(t, c, logical.ReadOperation, "sys/mounts/old", root, nil).Data
		if after["accessor"] != before["accessor"] || after["uuid"] == before["uuid"] ||
			fmt.Sprint(after["options"].(map[string]any)["version"]) != "2" ||
			after["config"].(map[string]any)["max_lease_ttl"] != before["config"].(map[string]any)["max_lease_ttl"] {
			t.Fatalf("mount after the upgrade = %v; before = %v", after, before)
		}
		if left := storedKeys(t, c, oldView); len(left) != 0 {
			t.Fatalf("the v1 data is still stored: %v", left)
		}
		if m := mountEntry(t, c, "old/"); m.RetiredView != "" || m.KVUpgradeUUID != "" {
			t.Fatalf("mount entry keeps upgrade state: %+v", m)
		}
	}
	check()
	if r := mustDo(t, c, logical.UpdateOperation, "old/data/db", root, map[string]any{"data": map[string]any{"password": "new"}}); r.Data["version"] != uint64(2) {
		t.Fatalf("write after the upgrade = %v; want version 2", r.Data)
	}
	secrets["db"] = "new"
	c.Seal(context.Background())
	if err := c.Unseal(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	r := mustDo(t, c, logical.ReadOperation, "old/data/db", root, nil)
	if r.Data["data"].(map[string]any)["password"] != "new" || r.Data["metadata"].(map[string]any)["version"] != uint64(2) {
		t.Fatalf("after a seal: %v", r.Data)
	}

	for _, bad := range []map[string]any{{"version": "1"}, {"version": "3"}} {
		if _, err := do(t, c, logical.UpdateOperation, "sys/mounts/old/tune", root, map[string]any{"options": bad}); logical.KindOf(err) != logical.KindInvalidRequest {
			t.Fatalf("tune options %v on a KV v2 mount: %v; want 400", bad, err)
		}
	}
}

// TestKVUpgradeInterrupted: a start that finds an unfinished copy (the
// mount table names it) wipes it and leaves the mount KV v1 with its data;
// one that finds a finished upgrade's old data wipes that.
func TestKVUpgradeInterrupted(t *testing.T) {
	ctx := context.Background()
	c, root, key := newKVCore(t)
	mustDo(t, c, logical.UpdateOperation, "sys/mounts/old", root, map[string]any{"type": "kv"})
	mustDo(t, c, logical.UpdateOperation, "old/db", root, map[string]any{"password": "pw"})
	m := mountEntry(t, c, "old/")

	// As if the node died while copying.
	pending := *m
	pending.KVUpgradeUUID = newID()
	copyOf := pending
	copyOf.UUID = pending.KVUpgradeUUID
	if err := c.barrier.Put(ctx, &storage.Entry{Key: viewPrefix(&copyOf) + "metadata/db", Value: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	saveWith(t, c, &pending)
	restart(t, c, key)
	if left := storedKeys(t, c, viewPrefix(&copyOf)); len(left) != 0 {
		t.Fatalf("the unfinished copy is still stored: %v", left)
	}
	if r := mustDo(t, c, logical.ReadOperation, "old/db", root, nil); r.Data["password"] != "pw" {
		t.Fatalf("v1 read after the interrupted upgrade = %v", r.Data)
	}
	if e := mountEntry(t, c, "old/"); e.KVUpgradeUUID != "" || e.Options["version"] == "2" {
		t.Fatalf("mount entry = %+v; want KV v1 without upgrade state", e)
	}

	// As if the node died after the switch, before the wipe.
	retired := "logical/" + newID() + "/"
	if err := c.barrier.Put(ctx, &storage.Entry{Key: retired + "db", Value: []byte(`{"password":"pw"}`)}); err != nil {
		t.Fatal(err)
	}
	done := *mountEntry(t, c, "old/")
	done.RetiredView = retired
	saveWith(t, c, &done)
	restart(t, c, key)
	if left := storedKeys(t, c, retired); len(left) != 0 {
		t.Fatalf("the retired v1 data is still stored: %v", left)
	}
	if e := mountEntry(t, c, "old/"); e.RetiredView != "" {
		t.Fatalf("mount entry keeps RetiredView: %+v", e)
	}
}

func saveWith(t *testing.T, c *Core, e *MountEntry) {
	t.Helper()
	st, done, err := c.state()
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	if err := c.saveMountsWith(context.Background(), st, e); err != nil {
		t.Fatal(err)
	}
}

func restart(t *testing.T, c *Core, key []byte) {
	t.Helper()
	c.Seal(context.Background())
	if err := c.Unseal(context.Background(), key); err != nil {
		t.Fatal(err)
	}
}

// TestKVUpgradeLosesNoAcknowledgedWrite upgrades a mount while writers
// keep writing to it: every write that was acknowledged is in KV v2 after
// the upgrade, with the last acknowledged value of its key.
func TestKVUpgradeLosesNoAcknowledgedWrite(t *testing.T) {
	c, root, _ := newKVCore(t)
	mustDo(t, c, logical.UpdateOperation, "sys/mounts/old", root, map[string]any{"type": "kv"})
	const writers = 4
	var acked [writers]atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := do(t, c, logical.UpdateOperation, fmt.Sprintf("old/w%d", w), root, map[string]any{"n": i})
				if err == nil {
					acked[w].Store(int64(i))
				}
			}
		}()
	}
	for acked[0].Load() == 0 {
		runtime.Gosched()
	}
	mustDo(t, c, logical.UpdateOperation, "sys/mounts/old/tune", root, map[string]any{"options": map[string]any{"version": "2"}})
	close(stop)
	wg.Wait()
	for w := range writers {
		last := acked[w].Load()
		if last == 0 {
			continue
		}
		r := mustDo(t, c, logical.ReadOperation, fmt.Sprintf("old/data/w%d", w), root, nil)
		if got := fmt.Sprint(r.Data["data"].(map[string]any)["n"]); got != fmt.Sprint(last) {
			t.Fatalf("writer %d: KV v2 holds n=%s; the last acknowledged write was %d", w, got, last)
		}
	}
}
