package hatest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/testcluster"
)

// snapshotEntries is how many writes TestWipedNodeRejoins makes before it
// takes a snapshot: many more than the trailing logs its nodes keep after
// a snapshot (64), so the leader's log no longer starts at index 1 and a
// node with nothing must be sent the snapshot.
const snapshotEntries = 1000

// TestWipedNodeRejoins wipes a standby's data directory (raft state and
// cluster identity) after the leader has snapshotted and compacted its
// log: started again, the node joins through retry_join, catches up, and
// serves every write.
func TestWipedNodeRejoins(t *testing.T) {
	c := newCluster(t, 3)
	for i := range c.layout.Nodes {
		// A short log tail: the leader compacts away what the wiped node
		// would need, so it must be sent a snapshot.
		c.layout.Nodes[i].RaftOptions = map[string]string{"trailing_logs": "64", "snapshot_threshold": "256"}
	}
	c.writeConfigs()
	c.boot()
	r := newRRClient(c, 45*time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	load := writeLoad(ctx, r, 16, "wipe")
	load.waitCount(t, snapshotEntries)
	cancel()
	<-load.done
	leader := c.leader()
	// raft-wal drops log entries a whole segment (64 MiB) at a time: fill
	// more than one, so compaction can drop the one holding the start.
	bulk := strings.Repeat("x", 1<<20)
	for i := range 80 {
		if err := put(t.Context(), c.client(leader), fmt.Sprintf("bulk/%d", i), bulk); err != nil {
			t.Fatalf("bulk write %d: %v", i, err)
		}
	}
	// A snapshot save makes raft take a snapshot and compact its log.
	if err := c.client(leader).Sys().RaftSnapshotWithContext(t.Context(), &bytes.Buffer{}); err != nil {
		t.Fatalf("snapshot on the leader: %v", err)
	}
	wiped := (leader + 1) % c.size()
	c.kill(wiped)
	if err := os.RemoveAll(c.layout.RaftDir(wiped)); err != nil {
		t.Fatal(err)
	}
	c.restart(wiped)
	c.waitHealthy()
	// The catch-up went through a snapshot install: raft keeps the
	// snapshot it was sent in the node's snapshot store.
	snaps, _ := filepath.Glob(filepath.Join(c.layout.RaftDir(wiped), "snapshots", "*"))
	if len(snaps) == 0 {
		t.Errorf("node-%d caught up without being sent a snapshot; its files: %v", wiped, listFiles(c.layout.RaftDir(wiped)))
	}
	acked, failed := load.snapshot()
	if len(failed) > 0 {
		t.Errorf("%d writes failed beyond the client's retries; first: %v", len(failed), failed[0])
	}
	checkAcked(t, c, []int{wiped}, acked)
}

// TestSnapshotIntoFreshCluster saves a snapshot of one cluster and
// restores it (snapshot-force) into a fresh one that shares its seal key:
// once unsealed, every node of the new cluster serves every secret and
// policy of the old one, with the old root token.
func TestSnapshotIntoFreshCluster(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			a := startCluster(t, n)
			secrets := map[string]string{}
			for i := range 20 {
				secrets[fmt.Sprintf("app/%d", i)] = fmt.Sprintf("snapshot-canary-%d", i)
			}
			root := a.client(0)
			for k, v := range secrets {
				if err := put(t.Context(), root, k, v); err != nil {
					t.Fatal(err)
				}
			}
			const policy = `path "secret/data/app/*" { capabilities = ["read"] }`
			if err := root.Sys().PutPolicyWithContext(t.Context(), "app-read", policy); err != nil {
				t.Fatal(err)
			}
			var snap bytes.Buffer
			if err := a.client(a.leader()).Sys().RaftSnapshotWithContext(t.Context(), &snap); err != nil {
				t.Fatal(err)
			}

			b := newCluster(t, n)
			copyFile(t, a.layout.SealKeyFile, b.layout.SealKeyFile)
			b.boot()
			if err := b.client(b.leader()).Sys().RaftSnapshotRestoreWithContext(t.Context(), bytes.NewReader(snap.Bytes()), true); err != nil {
				t.Fatalf("snapshot-force into the fresh cluster: %v", err)
			}
			// A restore seals the cluster; the static seal unseals each node
			// at start.
			for i := range n {
				b.stop(i)
			}
			b.rootToken = a.rootToken
			for i := range n {
				b.start(i)
			}
			for i := range n {
				b.waitUp(i)
			}
			b.waitHealthy()
			for i := range n {
				checkRestored(t, b.client(i), secrets, policy)
			}
		})
	}
}

// checkRestored checks every secret and the policy through c.
func checkRestored(t *testing.T, c *vaultapi.Client, secrets map[string]string, policy string) {
	t.Helper()
	for k, v := range secrets {
		if got, err := get(t.Context(), c, k); err != nil || got != v {
			t.Errorf("%s: %s = %q, %v; want %q", c.Address(), k, got, err, v)
		}
	}
	if got, err := c.Sys().GetPolicyWithContext(t.Context(), "app-read"); err != nil || got != policy {
		t.Errorf("%s: policy app-read = %q, %v", c.Address(), got, err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRecoverLostQuorum stops two of three nodes for good, runs `coffer
// operator raft recover` on the survivor's stopped data directory and
// starts it alone: it leads a one-member cluster and serves reads of
// everything it held, and writes.
func TestRecoverLostQuorum(t *testing.T) {
	c := startCluster(t, 3)
	root := c.client(c.leader())
	for i := range 10 {
		if err := put(t.Context(), root, fmt.Sprintf("before/%d", i), "kept"); err != nil {
			t.Fatal(err)
		}
	}
	survivor := c.leader()
	for i := range c.size() {
		if i != survivor {
			c.kill(i)
		}
	}
	c.stop(survivor)
	out, err := exec.Command(cofferBin, "operator", "raft", "recover", "-path", c.layout.RaftDir(survivor),
		"-node-id", c.layout.Nodes[survivor].ID, "-yes").CombinedOutput()
	if err != nil {
		t.Fatalf("raft recover: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), c.layout.Nodes[survivor].ID) {
		t.Fatalf("raft recover output does not name the survivor:\n%s", out)
	}
	c.restart(survivor)
	cl := c.client(survivor)
	testcluster.WaitHealthy(t, []*vaultapi.Client{cl}, []string{c.layout.Nodes[survivor].ID}, healthyTimeout)
	for i := range 10 {
		if got, err := get(t.Context(), cl, fmt.Sprintf("before/%d", i)); err != nil || got != "kept" {
			t.Errorf("before/%d after recovery = %q, %v", i, got, err)
		}
	}
	if err := put(t.Context(), cl, "after", "written"); err != nil {
		t.Fatalf("write after recovery: %v", err)
	}
	if got, err := get(t.Context(), cl, "after"); err != nil || got != "written" {
		t.Fatalf("read after recovery = %q, %v", got, err)
	}
}

// listFiles lists the files under dir, for failure messages.
func listFiles(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}
