package server_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// TestScheduledRaftSnapshots runs the schedule with a short interval: files
// appear under their timestamped names, the oldest are pruned to retain,
// no temporary file is left, and a scheduled file restores.
func TestScheduledRaftSnapshots(t *testing.T) {
	ctx := context.Background()
	snapDir := filepath.Join(t.TempDir(), "snapshots")
	cfg := raftConfig(t.TempDir(), "sched")
	cfg.RaftSnapshot = &config.RaftSnapshot{Interval: 50 * time.Millisecond, Path: snapDir, Retain: 2}
	in := servertest.Start(t, servertest.Options{Config: cfg})
	const secret = "scheduled-canary-31c9"
	if _, err := in.Client.KVv2("secret").Put(ctx, "k", map[string]any{"v": secret}); err != nil {
		t.Fatal(err)
	}
	// Wait until the files written after the secret replaced the first ones.
	seen := map[string]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for len(seen) < 5 && time.Now().Before(deadline) {
		for _, n := range snapshotFiles(t, snapDir) {
			seen[n] = true
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(seen) < 5 {
		t.Fatalf("saw %d snapshot files in 20s; want at least 5", len(seen))
	}
	in.Server.Close() // stops the schedule
	files := snapshotFiles(t, snapDir)
	if len(files) != 2 {
		t.Fatalf("%d files kept (%v); want retain = 2", len(files), files)
	}
	entries, _ := os.ReadDir(snapDir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "coffer-raft-") || !strings.HasSuffix(e.Name(), ".snap") {
			t.Errorf("unexpected file %s in the snapshot directory", e.Name())
		}
	}
	latest, err := os.ReadFile(filepath.Join(snapDir, files[len(files)-1]))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(latest, []byte(secret)) {
		t.Fatal("a scheduled snapshot holds a secret in plaintext")
	}
	// The file is a complete archive of this cluster: it restores without force.
	again := servertest.Start(t, servertest.Options{Config: raftConfig(t.TempDir(), "other")})
	if err := again.Client.Sys().RaftSnapshotRestore(bytes.NewReader(latest), true); err != nil {
		t.Fatalf("restoring a scheduled snapshot: %v", err)
	}
	waitSealed(t, again.Client)
	if err := again.Server.Core.Unseal(ctx, in.Keys[0]); err != nil {
		t.Fatal(err)
	}
	got, err := again.NewClient(t, in.RootToken).KVv2("secret").Get(ctx, "k")
	if err != nil || got.Data["v"] != secret {
		t.Fatalf("secret from a scheduled snapshot: %v, %v", got, err)
	}
	if !strings.Contains(in.Logs(), "scheduled raft snapshot written") {
		t.Error("runs are not logged")
	}
}

func snapshotFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "coffer-raft-") && strings.HasSuffix(e.Name(), ".snap") {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}
