package raft

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

// TestRecoverLostQuorum: a 3-node cluster loses two nodes for good; Recover
// on the survivor's directory makes it a one-node cluster that elects
// itself and serves every key.
func TestRecoverLostQuorum(t *testing.T) {
	ctx := context.Background()
	ca, nodes := testCluster(t, 3)
	leader := waitLeader(t, nodes)
	for i := range 150 { // past SnapshotThreshold: recovery reads a snapshot and the log
		if err := leader.Put(ctx, &storage.Entry{Key: fmt.Sprintf("q/%03d", i), Value: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	syncFollowers(t, leader, nodes)
	survivor := nodes[2]
	id, addr, dir := survivor.NodeID(), survivor.LocalAddr(), survivor.cfg.Dir
	for _, nd := range nodes {
		_ = nd.Close()
	}
	before, err := ReadConfiguration(dir)
	if err != nil || len(before) != 3 {
		t.Fatalf("configuration before recovery: %v, %v; want 3 servers", before, err)
	}
	if err := Recover(dir, id, ""); err != nil {
		t.Fatal(err)
	}
	after, err := ReadConfiguration(dir)
	if err != nil || len(after) != 1 || after[0].ID != id || after[0].Address != addr || !after[0].Voter {
		t.Fatalf("configuration after recovery: %+v, %v; want only %s at %s", after, err, id, addr)
	}
	nd := testNode(t, ca, id, dir)
	t.Cleanup(func() { _ = nd.Close() })
	waitLeader(t, []*Backend{nd})
	for i := range 150 {
		e, err := nd.Get(ctx, fmt.Sprintf("q/%03d", i))
		if err != nil || e.Value[0] != byte(i) {
			t.Fatalf("q/%03d after recovery: %v", i, err)
		}
	}
	if err := nd.Put(ctx, &storage.Entry{Key: "after", Value: []byte("recovery")}); err != nil {
		t.Fatalf("write after recovery: %v", err)
	}
}

func TestRecoverRefuses(t *testing.T) {
	_, nodes := testCluster(t, 1)
	dir := nodes[0].cfg.Dir
	if err := Recover(dir, "node-0", ""); !errors.Is(err, ErrInUse) {
		t.Fatalf("Recover on a running node: %v; want ErrInUse", err)
	}
	_ = nodes[0].Close()
	for _, tc := range []struct {
		name, dir, id, addr string
		want                error
	}{
		{"empty directory", t.TempDir(), "n", "127.0.0.1:1", ErrNoState},
		{"no node id", dir, "", "127.0.0.1:1", ErrInvalidConfig},
		{"unknown node without address", dir, "stranger", "", ErrInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := Recover(tc.dir, tc.id, tc.addr); !errors.Is(err, tc.want) {
				t.Fatalf("Recover: %v; want %v", err, tc.want)
			}
		})
	}
	if _, err := ReadConfiguration(t.TempDir()); !errors.Is(err, ErrNoState) {
		t.Fatalf("ReadConfiguration of an empty directory: %v", err)
	}
}

// TestRestoreFromLongerHistory restores a snapshot whose applied index is
// far above the target's log: writes after the restore must still apply,
// also after a restart.
func TestRestoreFromLongerHistory(t *testing.T) {
	ctx := context.Background()
	_, a := testCluster(t, 1)
	la := waitLeader(t, a)
	for i := range 200 {
		if err := la.Put(ctx, &storage.Entry{Key: fmt.Sprintf("h/%03d", i), Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	var snap bytes.Buffer
	if err := la.SaveSnapshot(&snap); err != nil {
		t.Fatal(err)
	}
	ca, b := testCluster(t, 1)
	lb := waitLeader(t, b)
	if err := lb.RestoreSnapshot(bytes.NewReader(snap.Bytes())); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := lb.Put(ctx, &storage.Entry{Key: fmt.Sprintf("new/%d", i), Value: []byte("after")}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(nd *Backend) {
		t.Helper()
		for i := range 5 {
			if e, err := nd.Get(ctx, fmt.Sprintf("new/%d", i)); err != nil || string(e.Value) != "after" {
				t.Fatalf("new/%d written after the restore: %v", i, err)
			}
		}
		if keys, err := nd.List(ctx, "h/"); err != nil || len(keys) != 200 {
			t.Fatalf("restored keys: %d, %v", len(keys), err)
		}
	}
	check(lb)
	dir := lb.cfg.Dir
	if err := lb.Close(); err != nil {
		t.Fatal(err)
	}
	again := testNode(t, ca, lb.NodeID(), dir)
	t.Cleanup(func() { _ = again.Close() })
	waitLeader(t, []*Backend{again})
	check(again)
}
