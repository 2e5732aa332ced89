package raft

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"

	"github.com/cofferdev/coffer/internal/storage"
)

// recorder collects hook calls of one node.
type recorder struct {
	mu       sync.Mutex
	keys     []string
	restores int
	leaders  []leaderCall
}

type leaderCall struct {
	id   string
	self bool
}

func (r *recorder) onApply(keys []string) {
	r.mu.Lock()
	r.keys = append(r.keys, keys...)
	r.mu.Unlock()
}

func (r *recorder) onRestore() {
	r.mu.Lock()
	r.restores++
	r.mu.Unlock()
}

func (r *recorder) onLeaderChange(id string, self bool) {
	r.mu.Lock()
	r.leaders = append(r.leaders, leaderCall{id, self})
	r.mu.Unlock()
}

func (r *recorder) snapshot() (keys []string, restores int, leaders []leaderCall) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.keys), r.restores, slices.Clone(r.leaders)
}

// hookedCluster starts n nodes whose hooks record into the returned
// recorders.
func hookedCluster(t *testing.T, n int) ([]*Backend, []*recorder) {
	t.Helper()
	recs := make([]*recorder, n)
	_, nodes := testClusterWith(t, n, func(i int, cfg *Config) {
		r := &recorder{}
		recs[i] = r
		cfg.OnApply, cfg.OnRestore, cfg.OnLeaderChange = r.onApply, r.onRestore, r.onLeaderChange
	})
	return nodes, recs
}

// TestOnApplyReportsKeysInOrder writes puts, deletes and transactions
// through the leader: every node reports every key, in log order, and a
// snapshot restore is reported as such.
func TestOnApplyReportsKeysInOrder(t *testing.T) {
	ctx := context.Background()
	nodes, recs := hookedCluster(t, 3)
	leader := waitLeader(t, nodes)
	var want []string
	for i := range 20 {
		key := fmt.Sprintf("apply/%02d", i)
		switch i % 3 {
		case 0:
			if err := leader.Put(ctx, &storage.Entry{Key: key, Value: []byte("v")}); err != nil {
				t.Fatal(err)
			}
			want = append(want, key)
		case 1:
			if err := leader.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			want = append(want, key)
		default:
			ops := []storage.TxnOp{
				{Kind: storage.OpPut, Entry: storage.Entry{Key: key + "/a", Value: []byte("1")}},
				{Kind: storage.OpDelete, Entry: storage.Entry{Key: key + "/b"}},
			}
			if err := leader.Transaction(ctx, ops); err != nil {
				t.Fatal(err)
			}
			want = append(want, key+"/a", key+"/b")
		}
	}
	syncFollowers(t, leader, nodes)
	for i, nd := range nodes {
		got, _, _ := recs[i].snapshot()
		if !slices.Equal(got, want) {
			t.Errorf("%s reported %v; want %v", nd.NodeID(), got, want)
		}
	}

	var snap bytes.Buffer
	if err := leader.SaveSnapshot(&snap); err != nil {
		t.Fatal(err)
	}
	if err := leader.RestoreSnapshot(bytes.NewReader(snap.Bytes())); err != nil {
		t.Fatal(err)
	}
	syncFollowers(t, leader, nodes)
	for i, nd := range nodes {
		if _, restores, _ := recs[i].snapshot(); restores == 0 {
			t.Errorf("%s did not report the restore", nd.NodeID())
		}
	}
}

// TestOnLeaderChange shuts the leader down: every node reports it, the
// survivors then report the new leader, and only the new leader says it
// is itself.
func TestOnLeaderChange(t *testing.T) {
	nodes, recs := hookedCluster(t, 3)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("leader calls: %v", recs)
		}
	})
	leader := waitReportedLeader(t, nodes, recs)
	oldIdx := slices.Index(nodes, leader)
	before := make([]int, len(nodes))
	for i := range nodes {
		_, _, calls := recs[i].snapshot()
		before[i] = len(calls)
		if last := calls[len(calls)-1]; last.self != (i == oldIdx) {
			t.Fatalf("%s: %+v; self is wrong", nodes[i].NodeID(), last)
		}
	}
	if err := leader.Close(); err != nil {
		t.Fatal(err)
	}
	_, _, calls := recs[oldIdx].snapshot()
	if len(calls) == before[oldIdx] || calls[len(calls)-1] != (leaderCall{}) {
		t.Fatalf("the old leader reported %v after its shutdown; want a last call with no leader", calls[before[oldIdx]:])
	}
	survivors := followersOf(leader, nodes)
	next := waitLeader(t, survivors)
	waitFor(t, "the survivors report the new leader", func() bool {
		for i, nd := range nodes {
			if nd == leader {
				continue
			}
			_, _, calls := recs[i].snapshot()
			if len(calls) <= before[i] || calls[len(calls)-1].id != next.NodeID() {
				return false
			}
		}
		return true
	})
	for i, nd := range nodes {
		if nd == leader {
			continue
		}
		_, _, calls := recs[i].snapshot()
		if last := calls[len(calls)-1]; last.self != (nd == next) {
			t.Errorf("%s: %+v; self is wrong", nd.NodeID(), last)
		}
		for j := 1; j < len(calls); j++ {
			if calls[j] == calls[j-1] {
				t.Errorf("%s reported %+v twice in a row", nd.NodeID(), calls[j])
			}
		}
	}
}

// TestLeadershipTransfer moves leadership away from the leader; a
// follower cannot.
func TestLeadershipTransfer(t *testing.T) {
	_, nodes := testCluster(t, 3)
	leader := waitLeader(t, nodes)
	follower := followersOf(leader, nodes)[0]
	if err := follower.LeadershipTransfer(); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("transfer from a follower: %v; want ErrNotLeader", err)
	}
	if err := leader.LeadershipTransfer(); err != nil {
		t.Fatal(err)
	}
	if next := waitLeader(t, nodes); next == leader {
		t.Fatal("the old leader still leads after the transfer")
	}
}

// String shows the recorded leader calls in failures.
func (r *recorder) String() string {
	_, _, calls := r.snapshot()
	return fmt.Sprint(calls)
}

// waitReportedLeader waits until every node's last report names the same
// node, and that node leads (whichever settles as leader on a loaded
// machine); it returns that node.
func waitReportedLeader(t *testing.T, nodes []*Backend, recs []*recorder) *Backend {
	t.Helper()
	var leader *Backend
	waitFor(t, "every node reports the leader", func() bool {
		_, _, first := recs[0].snapshot()
		if len(first) == 0 {
			return false
		}
		id := first[len(first)-1].id
		for i := range nodes {
			_, _, calls := recs[i].snapshot()
			if len(calls) == 0 || calls[len(calls)-1].id != id {
				return false
			}
		}
		for _, nd := range nodes {
			if nd.NodeID() == id && nd.IsLeader() {
				leader = nd
			}
		}
		return leader != nil
	})
	return leader
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// memSink is a snapshot sink in memory.
type memSink struct{ bytes.Buffer }

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { return nil }
func (s *memSink) Close() error  { return nil }

// TestRestoreHookBeforeIndex: the restore hook runs after the new state is
// in place but before the applied index moves to the snapshot's, so a
// reader waiting for that index (WaitApplied) finds the hook's work (a
// node dropping its caches) done.
func TestRestoreHookBeforeIndex(t *testing.T) {
	src, _, err := openFSM(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer src.close(true)
	var logs []*hraft.Log
	for i := uint64(1); i <= 5; i++ {
		ops := []storage.TxnOp{{Kind: storage.OpPut, Entry: storage.Entry{Key: fmt.Sprintf("k/%d", i), Value: []byte("v")}}}
		logs = append(logs, &hraft.Log{Index: i, Term: 1, Type: hraft.LogCommand, Data: encodeOps(ops)})
	}
	for _, r := range src.ApplyBatch(logs) {
		if r != nil {
			t.Fatal(r)
		}
	}
	snap, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}

	dst, _, err := openFSM(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dst.close(true)
	seen := uint64(99)
	dst.onRestore = func() {
		seen = dst.applied.Load()
		db, release := dst.backend()
		defer release()
		if _, err := db.Get(context.Background(), "k/5"); err != nil {
			t.Errorf("the restored state is not in place when the hook runs: %v", err)
		}
	}
	if err := dst.Restore(io.NopCloser(&sink.Buffer)); err != nil {
		t.Fatal(err)
	}
	if seen != 0 {
		t.Errorf("the hook saw applied index %d; want 0, the index before the restore", seen)
	}
	if got := dst.applied.Load(); got != 5 {
		t.Errorf("applied index after the restore = %d; want 5", got)
	}
}
