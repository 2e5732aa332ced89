package hatest

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/testcluster"
)

// signalRunning sends sig to node i's running process.
func (c *cluster) signalRunning(i int, sig syscall.Signal) {
	c.t.Helper()
	c.mu.Lock()
	p := c.procs[i]
	c.mu.Unlock()
	if p == nil || p.exited() {
		c.t.Fatalf("node-%d is not running", i)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		c.t.Fatal(err)
	}
}

// TestPausedLeaderLinearizable cuts the leader off from the cluster by
// freezing its process (SIGSTOP: it neither sends nor answers anything,
// the harshest partition of one node) under a register workload on every
// node: the majority elects a new leader and acknowledges writes; the old
// leader, resumed (SIGCONT) while it still believes it leads, rejoins as a
// follower and converges; and porcupine finds the whole history
// linearizable, including reads served by the old leader after it resumed.
func TestPausedLeaderLinearizable(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rec, done := registerLoad(ctx, c, 2, "register", 3*time.Second)
	time.Sleep(time.Second)
	old := c.leader()
	c.signalRunning(old, syscall.SIGSTOP)
	others := c.clients()
	others[old] = nil // a frozen node would hold every probe for its timeout
	next := testcluster.WaitActive(t, others, healthyTimeout)
	before := rec.ackedBy[next].Load()
	deadline := time.Now().Add(healthyTimeout)
	for rec.ackedBy[next].Load() < before+10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	majority := rec.ackedBy[next].Load() - before
	c.signalRunning(old, syscall.SIGCONT)
	c.waitHealthy()
	time.Sleep(time.Second) // the resumed node serves the workload too
	cancel()
	<-done
	if majority < 10 {
		t.Errorf("the majority acknowledged %d writes through node-%d while node-%d was cut off", majority, next, old)
	}
	checkConverged(t, c, "register")
	rec.checkLinearizable(t)
}

// checkConverged waits until every node holds the same value at
// secret/<key> (consistent reads), as they must once writes have stopped:
// requests the workload abandoned may still be committing for a moment.
func checkConverged(t *testing.T, c *cluster, key string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		values := make([]string, c.size())
		same := true
		for i := range c.size() {
			v, err := get(t.Context(), c.client(i), key)
			if err != nil {
				v = "error: " + err.Error()
			}
			values[i] = v
			same = same && v == values[0]
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("nodes disagree on %s 10s after the workload stopped: %q (node-0, node-1, ...)", key, values)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRegisterAcrossCrash runs the register workload on a single node,
// kill -9s it, starts it again and goes on: acknowledged writes survive
// the crash and the history stays linearizable. It runs on every build
// (no multi-node raft needed) and keeps the register harness honest.
func TestRegisterAcrossCrash(t *testing.T) {
	c := startCluster(t, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rec, done := registerLoad(ctx, c, 4, "register", 3*time.Second)
	time.Sleep(time.Second)
	c.kill(0)
	time.Sleep(200 * time.Millisecond)
	c.restart(0)
	c.waitHealthy()
	time.Sleep(time.Second)
	cancel()
	<-done
	rec.checkLinearizable(t)
}
