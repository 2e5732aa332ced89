package hatest

import (
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
)

// startCluster runs an n-node cluster with the harness's default layout:
// node 0 is initialized (bootstrapping raft), KV v2 is mounted at secret/,
// the others join, and the cluster is healthy.
func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	c := newCluster(t, n)
	c.boot()
	return c
}

// boot starts every node of a laid-out cluster and initializes it.
func (c *cluster) boot() {
	c.t.Helper()
	c.start(0)
	c.waitUp(0)
	res, err := c.client(0).Sys().InitWithContext(c.t.Context(), &vaultapi.InitRequest{RecoveryShares: 1, RecoveryThreshold: 1})
	if err != nil {
		c.t.Fatalf("sys/init on node-0: %v", err)
	}
	c.rootToken = res.RootToken
	if got := c.leader(); got != 0 {
		c.t.Fatalf("node-%d is active after init of node-0", got)
	}
	err = c.client(0).Sys().MountWithContext(c.t.Context(), "secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}})
	if err != nil {
		c.t.Fatalf("mount secret/: %v", err)
	}
	for i := 1; i < c.size(); i++ {
		c.start(i)
	}
	for i := 1; i < c.size(); i++ {
		c.waitUp(i)
	}
	c.waitHealthy()
}
