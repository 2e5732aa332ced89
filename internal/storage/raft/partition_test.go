package raft

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/cofferdev/coffer/internal/netfault"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/testport"
)

// proxiedCluster is a 3-node cluster whose nodes reach each other only
// through fault-injecting proxies: node i dials from 127.0.0.(11+i) and is
// reached at proxies[i].
type proxiedCluster struct {
	nodes   []*Backend
	proxies []*netfault.Proxy
	sources []netip.Addr
}

func startProxiedCluster(t *testing.T) *proxiedCluster {
	t.Helper()
	ca, err := NewCA("partition")
	if err != nil {
		t.Fatal(err)
	}
	pc := &proxiedCluster{}
	for i := range 3 {
		id := fmt.Sprintf("node-%d", i)
		src := netip.MustParseAddr(fmt.Sprintf("127.0.0.%d", 11+i))
		// Reserve the node's port, then put a proxy in front of it.
		bind := testport.Loopback(t)
		p, err := netfault.Listen("127.0.0.1:0", bind)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Close() })
		ident, err := ca.IssueNode(id, []net.IP{net.ParseIP("127.0.0.1")})
		if err != nil {
			t.Fatal(err)
		}
		nd, err := Open(Config{Dir: t.TempDir(), NodeID: id, BindAddr: bind, AdvertiseAddr: p.Addr(),
			DialSource: src.String(), Identity: ident, Timing: testTiming, ApplyTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = nd.Close() })
		pc.nodes, pc.proxies, pc.sources = append(pc.nodes, nd), append(pc.proxies, p), append(pc.sources, src)
	}
	if err := pc.nodes[0].Bootstrap(); err != nil {
		t.Fatal(err)
	}
	waitLeader(t, pc.nodes[:1])
	for i, nd := range pc.nodes[1:] {
		addVoter(t, pc.nodes[:i+1], nd)
	}
	return pc
}

// isolate cuts node i off from the others in both directions.
func (pc *proxiedCluster) isolate(i int) {
	pc.proxies[i].Isolate()
	for j, p := range pc.proxies {
		if j != i {
			p.Block(pc.sources[i])
		}
	}
}

func (pc *proxiedCluster) heal() {
	for _, p := range pc.proxies {
		p.Heal()
	}
}

func (pc *proxiedCluster) leaderIndex() int {
	for i, nd := range pc.nodes {
		if nd.IsLeader() {
			return i
		}
	}
	return -1
}

// registerInput is one register operation: a write of value, or a read.
type registerInput struct {
	write bool
	value string
}

var registerModel = porcupine.Model{
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		in := input.(registerInput)
		if in.write {
			return true, in.value
		}
		return output.(string) == state.(string), state
	},
	Equal: func(a, b any) bool { return a == b },
}

// registerRun is a concurrent read/write load on one key of a proxied
// cluster, recording a porcupine history.
type registerRun struct {
	pc      *proxiedCluster
	start   time.Time
	mu      sync.Mutex
	history []porcupine.Operation
	seq     atomic.Int64
	// majorityW counts writes acknowledged while partitioned;
	// followerReads reads served by nodes that were not leading.
	majorityW, followerReads atomic.Int64
	isolated                 atomic.Int32 // the cut-off node, -1 when none
}

func (r *registerRun) now() int64 { return int64(time.Since(r.start)) }

// client runs operations until ctx ends: writes through the leader,
// consistent reads on any node.
func (r *registerRun) client(ctx context.Context, c int) {
	rng := rand.New(rand.NewPCG(uint64(c), 7))
	for ctx.Err() == nil {
		i := r.pc.leaderIndex()
		if i < 0 {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		var op porcupine.Operation
		var ok bool
		if rng.IntN(2) == 0 {
			op, ok = r.write(ctx, c, i)
		} else {
			op, ok = r.read(ctx, c, r.pc.nodes[rng.IntN(len(r.pc.nodes))])
		}
		if ok {
			r.mu.Lock()
			r.history = append(r.history, op)
			r.mu.Unlock()
		}
	}
}

// write puts a fresh value through node i; false when the write was
// refused before it was proposed (no effect).
func (r *registerRun) write(ctx context.Context, c, i int) (porcupine.Operation, bool) {
	v := fmt.Sprintf("v%d", r.seq.Add(1))
	op := porcupine.Operation{ClientId: c, Call: r.now(), Input: registerInput{write: true, value: v}, Output: ""}
	err := r.pc.nodes[i].Put(ctx, &storage.Entry{Key: "reg", Value: []byte(v)})
	op.Return = r.now()
	switch {
	case err == nil:
		if iso := int(r.isolated.Load()); iso >= 0 && iso != i {
			r.majorityW.Add(1)
		}
	case errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrOutcomeUnknown):
		return op, false
	default:
		op.Return = 1 << 62 // outcome unknown: may take effect any time later
	}
	return op, true
}

// read reads the register on nd after ConsistentRead; false when the read
// failed (it observed nothing).
func (r *registerRun) read(ctx context.Context, c int, nd *Backend) (porcupine.Operation, bool) {
	op := porcupine.Operation{ClientId: c, Call: r.now(), Input: registerInput{}}
	rctx, rcancel := context.WithTimeout(ctx, 2*time.Second)
	follower := !nd.IsLeader()
	err := nd.ConsistentRead(rctx)
	rcancel()
	if err != nil {
		return op, false
	}
	e, err := nd.Get(ctx, "reg")
	v := ""
	if err == nil {
		v = string(e.Value)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return op, false
	}
	if follower {
		r.followerReads.Add(1)
	}
	op.Output, op.Return = v, r.now()
	return op, true
}

// TestPartitionLinearizable partitions the leader away under a concurrent
// read/write load on one key (writes through the leader, consistent reads
// on any node): the isolated leader stops acknowledging writes, the
// majority elects a new leader and goes on, the old leader rejoins and
// converges after the heal, and the whole history of the register is
// linearizable.
func TestPartitionLinearizable(t *testing.T) {
	if testing.Short() {
		t.Skip("partition test takes several seconds")
	}
	pc := startProxiedCluster(t)
	run := &registerRun{pc: pc, start: time.Now()}
	run.isolated.Store(-1)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run.client(ctx, c)
		}()
	}
	time.Sleep(700 * time.Millisecond)
	old := pc.leaderIndex()
	if old < 0 {
		t.Fatal("no leader before the partition")
	}
	run.isolated.Store(int32(old))
	pc.isolate(old)
	var others []*Backend
	for i, nd := range pc.nodes {
		if i != old {
			others = append(others, nd)
		}
	}
	waitLeader(t, others)
	// The isolated old leader cannot commit anything.
	err := pc.nodes[old].Put(context.Background(), &storage.Entry{Key: "minority", Value: []byte("x")})
	if err == nil {
		t.Fatal("the isolated old leader acknowledged a write")
	}
	time.Sleep(1500 * time.Millisecond)
	run.isolated.Store(-1)
	pc.heal()
	time.Sleep(700 * time.Millisecond)
	cancel()
	wg.Wait()
	checkConverged(t, pc)
	if run.followerReads.Load() == 0 {
		t.Error("no read was served by a follower")
	}
	if run.majorityW.Load() == 0 {
		t.Error("the majority acknowledged no write while the old leader was cut off")
	}
	res := porcupine.CheckOperationsTimeout(registerModel, run.history, 60*time.Second)
	t.Logf("%d operations, %d reads on followers, %d writes acknowledged by the majority during the partition, result %v",
		len(run.history), run.followerReads.Load(), run.majorityW.Load(), res)
	if res != porcupine.Ok {
		t.Fatalf("history of %d operations is not linearizable (%v)", len(run.history), res)
	}
}

// checkConverged checks that every node holds the leader's register and
// none holds the write the isolated leader could not commit.
func checkConverged(t *testing.T, pc *proxiedCluster) {
	t.Helper()
	leader := waitLeader(t, pc.nodes)
	syncFollowers(t, leader, pc.nodes)
	want, err := leader.Get(context.Background(), "reg")
	if err != nil {
		t.Fatal(err)
	}
	for _, nd := range pc.nodes {
		got, err := nd.Get(context.Background(), "reg")
		if err != nil || string(got.Value) != string(want.Value) {
			t.Errorf("%s did not converge: %v, %v; leader has %s", nd.NodeID(), got, err, want.Value)
		}
		if _, err := nd.Get(context.Background(), "minority"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s holds the write the isolated leader could not commit: %v", nd.NodeID(), err)
		}
	}
}
