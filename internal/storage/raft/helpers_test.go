package raft

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"
)

var testTiming = Timing{HeartbeatTimeout: 400 * time.Millisecond, ElectionTimeout: 400 * time.Millisecond,
	LeaderLeaseTimeout: 300 * time.Millisecond, CommitTimeout: 5 * time.Millisecond}

// testNode starts a node with a certificate from ca in dir.
func testNode(t testing.TB, ca *CA, id, dir string) *Backend {
	t.Helper()
	return testNodeWith(t, ca, Config{Dir: dir, NodeID: id})
}

// testNodeWith starts a node with a certificate from ca, filling in cfg's
// address, identity, timing and snapshot threshold where unset.
func testNodeWith(t testing.TB, ca *CA, cfg Config) *Backend {
	t.Helper()
	ident, err := ca.IssueNode(cfg.NodeID, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Identity = ident
	if cfg.BindAddr == "" {
		cfg.BindAddr = "127.0.0.1:0"
	}
	if cfg.Timing == (Timing{}) {
		cfg.Timing = testTiming
	}
	if cfg.SnapshotThreshold == 0 {
		cfg.SnapshotThreshold = 64
	}
	b, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testCluster starts n nodes, bootstraps the first and joins the others.
func testCluster(t testing.TB, n int) (*CA, []*Backend) {
	t.Helper()
	return testClusterWith(t, n, nil)
}

// testClusterWith is testCluster with configure (if not nil) adjusting
// node i's configuration (node-i, in a fresh directory) before it opens.
func testClusterWith(t testing.TB, n int, configure func(i int, cfg *Config)) (*CA, []*Backend) {
	t.Helper()
	ca, err := NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	nodes := make([]*Backend, n)
	for i := range nodes {
		cfg := Config{Dir: t.TempDir(), NodeID: fmt.Sprintf("node-%d", i)}
		if configure != nil {
			configure(i, &cfg)
		}
		nodes[i] = testNodeWith(t, ca, cfg)
		t.Cleanup(func() { _ = nodes[i].Close() })
	}
	if err := nodes[0].Bootstrap(); err != nil {
		t.Fatal(err)
	}
	waitLeader(t, nodes[:1])
	for i, nd := range nodes[1:] {
		addVoter(t, nodes[:i+1], nd)
	}
	// Every node has the whole configuration (and knows the leader).
	syncFollowers(t, waitLeader(t, nodes), nodes)
	return ca, nodes
}

// addVoter adds nd through whichever of members leads, retrying while a
// loaded machine makes leadership flap.
func addVoter(t testing.TB, members []*Backend, nd *Backend) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := waitLeader(t, members).AddVoter(nd.NodeID(), nd.LocalAddr())
		if err == nil {
			return
		}
		if !errors.Is(err, ErrNotLeader) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLeader waits until one of nodes leads and returns it.
func waitLeader(t testing.TB, nodes []*Backend) *Backend {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, nd := range nodes {
			if nd.IsLeader() {
				return nd
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no leader elected within 10s")
	return nil
}

// syncFollowers waits until every node applied what the leader has.
func syncFollowers(t testing.TB, leader *Backend, nodes []*Backend) {
	t.Helper()
	idx, err := leader.Barrier()
	for deadline := time.Now().Add(10 * time.Second); errors.Is(err, ErrNotLeader) && time.Now().Before(deadline); {
		// Leadership moved on a loaded machine: ask the new leader.
		leader = waitLeader(t, nodes)
		idx, err = leader.Barrier()
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, nd := range nodes {
		if err := nd.WaitApplied(ctx, idx); err != nil {
			t.Fatalf("%s: %v", nd.NodeID(), err)
		}
	}
}

func soloCA(t testing.TB) *CA {
	t.Helper()
	ca, err := NewCA("solo")
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// soloNode opens (or reopens) a one-node cluster in dir and waits until it
// leads. Bootstrap is a no-op when the directory has raft state.
func soloNode(t testing.TB, ca *CA, dir string) *Backend {
	t.Helper()
	nd := testNode(t, ca, "solo", dir)
	if err := nd.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	waitLeader(t, []*Backend{nd})
	return nd
}
