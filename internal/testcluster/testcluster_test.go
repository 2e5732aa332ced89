package testcluster_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/testcluster"
)

// put writes {"v": value} at secret/<path> through c.
func put(t *testing.T, c *vaultapi.Client, path, value string) {
	t.Helper()
	if _, err := c.KVv2("secret").Put(t.Context(), path, map[string]any{"v": value}); err != nil {
		t.Fatalf("put %s through %s: %v", path, c.Address(), err)
	}
}

// get reads secret/<path> through c and fails unless it holds value.
func get(t *testing.T, c *vaultapi.Client, path, value string) {
	t.Helper()
	s, err := c.KVv2("secret").Get(t.Context(), path)
	if err != nil {
		t.Fatalf("get %s through %s: %v", path, c.Address(), err)
	}
	if s.Data["v"] != value {
		t.Fatalf("get %s through %s = %v; want %q", path, c.Address(), s.Data["v"], value)
	}
}

// TestLayoutConfigParses checks that every node's configuration is a valid
// file with the contract's fields: one retry_join per other node in a
// cluster, none for a single node.
func TestLayoutConfigParses(t *testing.T) {
	for _, n := range []int{1, 3, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			l := testcluster.NewLayout(t, t.TempDir(), n)
			for i := range n {
				cfg, err := config.Load(l.WriteConfig(t, i))
				if err != nil {
					t.Fatalf("node %d: %v", i, err)
				}
				want := n - 1
				if n == 1 {
					want = 0
				}
				if got := len(cfg.Storage.RetryJoin); got != want {
					t.Fatalf("node %d has %d retry_join blocks; want %d", i, got, want)
				}
				for _, rj := range cfg.Storage.RetryJoin {
					if rj.LeaderAPIAddr == l.URL(i) || rj.LeaderCACertFile != l.TLS.CAFile {
						t.Fatalf("node %d retry_join %+v", i, rj)
					}
				}
				if cfg.Storage.Options["node_id"] != l.Nodes[i].ID || cfg.Seal == nil || cfg.Seal.Type != "static" ||
					cfg.ClusterAddr != "https://"+l.Nodes[i].ClusterAddr || cfg.APIAddr != l.URL(i) {
					t.Fatalf("node %d config: %+v", i, cfg)
				}
			}
		})
	}
}

// TestSingleNode runs the one-node cluster that raft supports without
// joining: it initializes, serves, survives a restart (the static seal
// unseals it) and leaks nothing to its log.
func TestSingleNode(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 1})
	if got := c.Leader(t); got != 0 {
		t.Fatalf("Leader = %d; want 0", got)
	}
	const secret = "single-node-canary-41f2"
	put(t, c.Nodes[0].Client(t), "app/one", secret)
	c.Nodes[0].Stop()
	if c.Nodes[0].Running() {
		t.Fatal("node runs after Stop")
	}
	c.Nodes[0].Restart(t)
	if got := c.WaitHealthy(t); got != 0 {
		t.Fatalf("WaitHealthy = %d; want 0", got)
	}
	get(t, c.Nodes[0].Client(t), "app/one", secret)
	if !strings.Contains(c.Nodes[0].Logs(), "level=DEBUG") {
		t.Fatal("the node logged no debug lines; the leak check would be vacuous")
	}
	c.CheckNoLeaks(t, secret, c.RootToken)
}

// TestClusterServes forms a 3-node cluster and checks the roles it
// reports, that standbys serve consistent reads of writes acknowledged by
// the active node, and that writes sent to a standby are forwarded.
func TestClusterServes(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	leader := c.Leader(t)
	t.Run("health and leader", func(t *testing.T) { checkRoles(t, c, leader) })
	t.Run("write on the leader, read everywhere", func(t *testing.T) {
		for i := range 5 {
			v := fmt.Sprintf("leader-%d", i)
			put(t, c.Nodes[leader].Client(t), "from-leader", v)
			for _, nd := range c.Nodes {
				get(t, nd.Client(t), "from-leader", v)
			}
		}
	})
	t.Run("write on a standby, read everywhere", func(t *testing.T) {
		for _, nd := range c.Nodes {
			if nd.Index == leader {
				continue
			}
			v := "via-" + nd.ID()
			put(t, nd.Client(t), "from-standby", v)
			for _, other := range c.Nodes {
				get(t, other.Client(t), "from-standby", v)
			}
		}
	})
}

// checkRoles checks sys/health's codes and sys/leader on every node.
func checkRoles(t *testing.T, c *testcluster.Cluster, leader int) {
	t.Helper()
	for _, nd := range c.Nodes {
		want := http.StatusTooManyRequests
		if nd.Index == leader {
			want = http.StatusOK
		}
		for query, code := range map[string]int{"": want, "?standbyok=true": http.StatusOK} {
			resp, err := nd.Client(t).CloneConfig().HttpClient.Get(nd.Addr() + "/v1/sys/health" + query)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != code {
				t.Errorf("%s: sys/health%s = %d; want %d", nd.ID(), query, resp.StatusCode, code)
			}
		}
		l, err := nd.Client(t).Sys().LeaderWithContext(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !l.HAEnabled || l.IsSelf != (nd.Index == leader) || l.LeaderAddress != c.Nodes[leader].Addr() {
			t.Errorf("%s: sys/leader = %+v; want ha_enabled, is_self=%v, leader_address %s",
				nd.ID(), l, nd.Index == leader, c.Nodes[leader].Addr())
		}
	}
}

// TestClusterSurvivesNodeLoss stops the active node: the other two elect a
// new one and take writes through either of them; the stopped node,
// restarted, catches up on what it missed and the cluster is whole again.
func TestClusterSurvivesNodeLoss(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	old := c.Leader(t)
	put(t, c.Nodes[old].Client(t), "before", "1")
	c.Nodes[old].Stop()
	leader := c.Leader(t)
	if leader == old {
		t.Fatalf("stopped node %d still counted as leader", old)
	}
	for i, nd := range c.Nodes {
		if nd.Running() {
			put(t, nd.Client(t), fmt.Sprintf("during-%d", i), "2")
		}
	}
	c.Nodes[old].Restart(t)
	c.WaitHealthy(t)
	back := c.Nodes[old].Client(t)
	get(t, back, "before", "1")
	for i := range c.Nodes {
		if i != old {
			get(t, back, fmt.Sprintf("during-%d", i), "2")
		}
	}
	put(t, back, "after", "3")
	for _, nd := range c.Nodes {
		get(t, nd.Client(t), "after", "3")
	}
	c.CheckNoLeaks(t, c.RootToken)
}
