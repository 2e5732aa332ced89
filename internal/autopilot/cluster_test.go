package autopilot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// testNode is one in-memory raft server.
type testNode struct {
	id      raft.ServerID
	addr    raft.ServerAddress
	raft    *raft.Raft
	trans   *raft.InmemTransport
	stopped atomic.Bool
	sealed  atomic.Bool // reports itself unhealthy
}

// testCluster is a hashicorp/raft cluster over InmemTransport. Node 0 is
// the leader: it has short timeouts, the others such long ones that they
// never start an election during a test, so leadership never moves.
type testCluster struct {
	t     testing.TB
	nodes []*testNode
	clock *testClock
}

type nopFSM struct{}

func (nopFSM) Apply(*raft.Log) any                 { return nil }
func (nopFSM) Snapshot() (raft.FSMSnapshot, error) { return nopSnapshot{}, nil }
func (nopFSM) Restore(r io.ReadCloser) error       { return r.Close() }

type nopSnapshot struct{}

func (nopSnapshot) Persist(s raft.SnapshotSink) error { return s.Close() }
func (nopSnapshot) Release()                          {}

// newCluster starts voters voting servers (bootstrapped together) and
// spare servers that are connected but in no configuration yet.
func newCluster(t testing.TB, voters, spare int) *testCluster {
	t.Helper()
	c := &testCluster{t: t, clock: &testClock{}}
	var conf raft.Configuration
	for i := range voters + spare {
		addr, trans := raft.NewInmemTransport("")
		n := &testNode{id: raft.ServerID(fmt.Sprintf("node%d", i)), addr: addr, trans: trans}
		c.nodes = append(c.nodes, n)
		if i < voters {
			conf.Servers = append(conf.Servers, raft.Server{ID: n.id, Address: addr, Suffrage: raft.Voter})
		}
	}
	for _, a := range c.nodes {
		for _, b := range c.nodes {
			if a != b {
				a.trans.Connect(b.addr, b.trans)
			}
		}
	}
	for i, n := range c.nodes {
		cfg := raft.DefaultConfig()
		cfg.LocalID = n.id
		cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: io.Discard})
		cfg.HeartbeatTimeout, cfg.ElectionTimeout = 30*time.Second, 30*time.Second
		cfg.LeaderLeaseTimeout, cfg.CommitTimeout = 300*time.Millisecond, 5*time.Millisecond
		if i == 0 {
			cfg.HeartbeatTimeout, cfg.ElectionTimeout = 300*time.Millisecond, 300*time.Millisecond
		}
		store := raft.NewInmemStore()
		snaps := raft.NewInmemSnapshotStore()
		if i < voters {
			if err := raft.BootstrapCluster(cfg, store, store, snaps, n.trans, conf); err != nil {
				t.Fatalf("bootstrap %s: %v", n.id, err)
			}
		}
		r, err := raft.NewRaft(cfg, nopFSM{}, store, store, snaps, n.trans)
		if err != nil {
			t.Fatalf("start %s: %v", n.id, err)
		}
		n.raft = r
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			_ = n.raft.Shutdown().Error()
		}
	})
	waitFor(t, "node0 to lead", func() bool { return c.nodes[0].raft.State() == raft.Leader })
	return c
}

// stop cuts node i off and shuts it down: it no longer answers anyone.
func (c *testCluster) stop(i int) {
	n := c.nodes[i]
	n.stopped.Store(true)
	for _, o := range c.nodes {
		o.trans.Disconnect(n.addr)
	}
	n.trans.DisconnectAll()
	if err := n.raft.Shutdown().Error(); err != nil {
		c.t.Fatalf("shut down %s: %v", n.id, err)
	}
}

// stats is Options.Stats: what the node's raft reports, or an error for a
// stopped node.
func (c *testCluster) stats(_ context.Context, id, _ string) (NodeStats, error) {
	for _, n := range c.nodes {
		if string(n.id) != id {
			continue
		}
		if n.stopped.Load() {
			return NodeStats{}, errors.New("connection refused")
		}
		s := n.raft.Stats()
		term, err := strconv.ParseUint(s["last_log_term"], 10, 64)
		if err != nil {
			return NodeStats{}, fmt.Errorf("last_log_term: %w", err)
		}
		return NodeStats{LastContact: parseLastContact(s["last_contact"]), LastTerm: term,
			LastIndex: n.raft.LastIndex(), Healthy: !n.sealed.Load(), Version: "test"}, nil
	}
	return NodeStats{}, fmt.Errorf("no server %q", id)
}

func parseLastContact(s string) time.Duration {
	switch s {
	case "0":
		return 0
	case "never":
		return time.Duration(1<<63 - 1)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return time.Duration(1<<63 - 1)
	}
	return d
}

// suffrage returns id's suffrage in node0's configuration, and false if id
// is not in it.
func (c *testCluster) suffrage(id raft.ServerID) (raft.ServerSuffrage, bool) {
	f := c.nodes[0].raft.GetConfiguration()
	if err := f.Error(); err != nil {
		c.t.Fatalf("configuration: %v", err)
	}
	for _, s := range f.Configuration().Servers {
		if s.ID == id {
			return s.Suffrage, true
		}
	}
	return 0, false
}

// testClock is real time plus an offset the test moves forward, so the
// autopilot thresholds pass when the test says so and not before.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// event is one raft change the manager asked for.
type event struct {
	op string
	id raft.ServerID
	at time.Time // on the test clock
}

// recordingRaft records the membership changes autopilot makes.
type recordingRaft struct {
	*raft.Raft
	clock  *testClock
	mu     sync.Mutex
	events []event
}

func (r *recordingRaft) record(op string, id raft.ServerID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, event{op: op, id: id, at: r.clock.Now()})
}

func (r *recordingRaft) Events() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.events...)
}

func (r *recordingRaft) AddVoter(id raft.ServerID, addr raft.ServerAddress, prev uint64, timeout time.Duration) raft.IndexFuture {
	r.record("add-voter", id)
	return r.Raft.AddVoter(id, addr, prev, timeout)
}

func (r *recordingRaft) RemoveServer(id raft.ServerID, prev uint64, timeout time.Duration) raft.IndexFuture {
	r.record("remove", id)
	return r.Raft.RemoveServer(id, prev, timeout)
}

// testConfig is Options.Config; it counts calls, which the library makes
// at every update and reconcile round.
type testConfig struct {
	mu    sync.Mutex
	c     Config
	calls atomic.Int64
}

func (tc *testConfig) get() Config {
	tc.calls.Add(1)
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.c
}

// rounds waits until the manager has read its configuration n more times,
// i.e. several update and reconcile rounds have passed.
func (tc *testConfig) rounds(t testing.TB, n int64) {
	t.Helper()
	start := tc.calls.Load()
	waitFor(t, fmt.Sprintf("%d more autopilot rounds", n), func() bool { return tc.calls.Load() >= start+n })
}

// startManager runs a Manager on node0 with fast rounds.
func (c *testCluster) startManager(cfg Config) (*Manager, *recordingRaft, *testConfig) {
	rr := &recordingRaft{Raft: c.nodes[0].raft, clock: c.clock}
	tc := &testConfig{c: cfg}
	m := New(Options{Raft: rr, Stats: c.stats, Config: tc.get, Now: c.clock.Now, Version: "test",
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		UpdateInterval: 30 * time.Millisecond, ReconcileInterval: 30 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	m.Start(ctx)
	c.t.Cleanup(func() {
		m.Stop()
		cancel()
	})
	return m, rr, tc
}

// waitHealthy waits until the state shows n servers, all healthy.
func waitHealthy(t testing.TB, m *Manager, n int) State {
	t.Helper()
	var st State
	waitFor(t, fmt.Sprintf("%d healthy servers", n), func() bool {
		st = m.State()
		if len(st.Servers) != n {
			return false
		}
		for _, s := range st.Servers {
			if !s.Healthy {
				return false
			}
		}
		return true
	})
	return st
}

// waitFor polls cond; the bound only keeps a broken test from hanging.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
