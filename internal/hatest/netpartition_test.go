package hatest

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/netfault"
	"github.com/cofferdev/coffer/internal/testcluster"
	"github.com/cofferdev/coffer/internal/testport"
)

// proxiedCluster lays out n nodes whose cluster ports listen on their own
// loopback address (127.0.0.2, .3, ...), dial each other from it, and are
// reached only through a fault-injecting proxy each: cutting a node's
// address on the proxies partitions it from the others, on the network,
// while its API stays reachable.
func proxiedCluster(t *testing.T, n int) (*cluster, []*netfault.Proxy, []netip.Addr) {
	t.Helper()
	c := newCluster(t, n)
	proxies := make([]*netfault.Proxy, n)
	ips := make([]netip.Addr, n)
	for i := range n {
		ips[i] = netip.AddrFrom4([4]byte{127, 0, 0, byte(i + 2)})
		bind := testport.On(t, ips[i].String()) // fails without loopback aliases
		p, err := netfault.Listen("127.0.0.1:0", bind)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		proxies[i] = p
		c.layout.Nodes[i].ClusterBind = bind
		c.layout.Nodes[i].ClusterAddr = p.Addr()
	}
	c.writeConfigs()
	c.boot()
	return c, proxies, ips
}

// partition cuts node i off from every other node, both ways.
func partition(proxies []*netfault.Proxy, ips []netip.Addr, i int, cut bool) {
	for j, p := range proxies {
		if j == i {
			continue
		}
		if cut {
			p.Block(ips[i])
			proxies[i].Block(ips[j])
		} else {
			p.Unblock(ips[i])
			proxies[i].Unblock(ips[j])
		}
	}
}

// TestPartitionedLeader partitions the leader from the two others on the
// cluster network under a register workload sent to every node: the old
// leader (its API still reachable) stops acknowledging writes, the majority
// elects a new leader and goes on; when the network heals the old leader
// rejoins as a follower and converges; porcupine finds the history,
// including what the cut-off node answered, linearizable.
func TestPartitionedLeader(t *testing.T) {
	c, proxies, ips := proxiedCluster(t, 3)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rec, done := registerLoad(ctx, c, 2, "register", 3*time.Second)
	time.Sleep(time.Second)
	old := c.leader()
	partition(proxies, ips, old, true)
	others := c.clients()
	others[old] = nil
	next := testcluster.WaitActive(t, others, healthyTimeout)
	if next == old {
		t.Fatalf("node-%d still active after being cut off", old)
	}
	before := rec.ackedBy[next].Load()
	oldBefore := rec.ackedBy[old].Load()
	deadline := time.Now().Add(healthyTimeout)
	for rec.ackedBy[next].Load() < before+10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	majority := rec.ackedBy[next].Load() - before
	// The cut-off node must not acknowledge writes of its own now: a
	// write it takes can reach neither a quorum nor the new leader.
	if err := put(ctx, c.client(old), "minority-probe", "x"); err == nil {
		t.Errorf("node-%d, cut off from the majority, acknowledged a write", old)
	}
	minority := rec.ackedBy[old].Load() - oldBefore
	partition(proxies, ips, old, false)
	c.waitHealthy()
	time.Sleep(time.Second) // the healed node serves the workload too
	cancel()
	<-done
	if majority < 10 {
		t.Errorf("the majority acknowledged %d writes through node-%d while node-%d was cut off", majority, next, old)
	}
	t.Logf("while cut off, node-%d completed %d register operations (reads it could not confirm fail)", old, minority)
	checkConverged(t, c, "register")
	if v, err := get(t.Context(), c.client(old), "minority-probe"); err == nil && v == "x" {
		t.Log("the probe written during the partition was applied after the heal (its outcome was unknown to the client)")
	} else if err != nil {
		t.Logf("probe: %v", err)
	}
	rec.checkLinearizable(t)
}
