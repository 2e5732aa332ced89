package hatest

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestKillLeaderUnderLoad kill -9s the active node while 8 writers put
// distinct keys through a round-robin client that retries what it may:
// the others elect a new leader and go on (a single node is restarted),
// the killed node comes back, and every acknowledged write is on every
// node. The one-node case runs on every build; the three-node case needs
// multi-node raft.
func TestKillLeaderUnderLoad(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			c := startCluster(t, n)
			r := newRRClient(c, 45*time.Second)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			load := writeLoad(ctx, r, 8, "kill")
			load.waitCount(t, 100)
			old := c.leader()
			c.kill(old)
			t.Logf("killed node-%d (the leader) after %d acknowledged writes", old, load.count())
			if n > 1 {
				if now := c.leader(); now == old {
					t.Fatalf("killed node-%d is still reported active", old)
				}
				// The survivors take writes while node old is down.
				load.waitCount(t, load.count()+100)
			}
			c.restart(old)
			c.waitHealthy()
			load.waitCount(t, load.count()+100)
			cancel()
			<-load.done
			acked, failed := load.snapshot()
			t.Logf("%d writes acknowledged, %d retries, %d failed for good", len(acked), r.retries.Load(), len(failed))
			for _, err := range failed {
				t.Errorf("write failed beyond the client's retries: %v", err)
			}
			checkAcked(t, c, allNodes(n), acked)
		})
	}
}

// TestRollingRestart restarts the three nodes one at a time (SIGTERM,
// start, wait until the cluster is whole) under a write load through a
// round-robin client: no write fails that the client could not retry and
// no acknowledged write is lost.
func TestRollingRestart(t *testing.T) {
	c := startCluster(t, 3)
	r := newRRClient(c, 45*time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	load := writeLoad(ctx, r, 8, "rolling")
	load.waitCount(t, 50)
	for i := range c.size() {
		c.stop(i)
		c.restart(i)
		c.waitHealthy()
		load.waitCount(t, load.count()+50)
	}
	cancel()
	<-load.done
	acked, failed := load.snapshot()
	t.Logf("%d writes acknowledged, %d retries", len(acked), r.retries.Load())
	for _, err := range failed {
		t.Errorf("write failed beyond the client's retries: %v", err)
	}
	checkAcked(t, c, allNodes(3), acked)
}
