// Package testcluster runs an N-node Coffer cluster in the test process:
// real TLS on loopback, raft storage, a shared static seal, initialized and
// joined, for tests of clustering behaviour. Production code never imports it.
package testcluster

import (
	"fmt"
	"github.com/cofferdev/coffer/internal/logical/logicaltest"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// Timeouts of the cluster's waits. Generous: the machine running the tests
// may be busy, and none of them is a timing assertion.
const (
	startTimeout   = 60 * time.Second
	healthyTimeout = 60 * time.Second
)

// Options tune Start.
type Options struct {
	// Nodes is the cluster size (3 if zero).
	Nodes int
	// NoKV leaves out the KV v2 mount at secret/ that Start adds.
	NoKV bool
}

// Cluster is a running in-process cluster. Nodes keep their index for the
// cluster's life; Stop and Restart take one down and bring it back.
type Cluster struct {
	Nodes []*Node
	// RootToken is the token sys/init returned.
	RootToken string
	// RecoveryKeys are the recovery key shares sys/init returned (the
	// static seal unseals the nodes).
	RecoveryKeys []string
	// Layout is where the nodes listen and keep their files.
	Layout *Layout
}

// Start runs opts.Nodes servers, initializes node 0 (which bootstraps the
// raft cluster and becomes active), lets the others join it through their
// retry_join blocks, mounts KV v2 at secret/ and waits until the cluster is
// healthy. Everything stops when the test ends; on failure the tail of
// every node's log is printed.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	n := opts.Nodes
	if n == 0 {
		n = 3
	}
	c := &Cluster{Layout: NewLayout(t, t.TempDir(), n)}
	for i := range n {
		c.Nodes = append(c.Nodes, &Node{Index: i, cluster: c, logs: &logicaltest.LogBuffer{}})
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.LogTails(t, 40)
		}
		c.Close()
	})
	if err := c.Nodes[0].start(); err != nil {
		t.Fatalf("testcluster: start %s: %v", c.Nodes[0].ID(), err)
	}
	c.initialize(t, opts)
	errc := make(chan error, n)
	for _, nd := range c.Nodes[1:] {
		go func() { errc <- nd.start() }()
	}
	for range c.Nodes[1:] {
		if err := <-errc; err != nil {
			t.Fatalf("testcluster: start: %v", err)
		}
	}
	c.WaitHealthy(t)
	return c
}

// initialize runs sys/init on node 0 and mounts KV v2 at secret/.
func (c *Cluster) initialize(t testing.TB, opts Options) {
	t.Helper()
	cl := c.Nodes[0].anonClient(t)
	waitUp(t, cl)
	res, err := cl.Sys().InitWithContext(t.Context(), &vaultapi.InitRequest{RecoveryShares: 1, RecoveryThreshold: 1})
	if err != nil {
		t.Fatalf("testcluster: sys/init on %s: %v", c.Nodes[0].ID(), err)
	}
	c.RootToken, c.RecoveryKeys = res.RootToken, res.RecoveryKeysB64
	root := c.Nodes[0].Client(t)
	waitUnsealedActive(t, root)
	if opts.NoKV {
		return
	}
	if err := root.Sys().MountWithContext(t.Context(), "secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatalf("testcluster: mount secret/: %v", err)
	}
}

// waitUp waits until the node answers sys/seal-status.
func waitUp(t testing.TB, c *vaultapi.Client) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		_, err := c.Sys().SealStatusWithContext(t.Context())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testcluster: %s never answered: %v", c.Address(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitUnsealedActive waits until the node reports itself active.
func waitUnsealedActive(t testing.TB, c *vaultapi.Client) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		st := NodeStatus(t.Context(), c)
		if st.Active() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testcluster: %s is %s, not active, after init", c.Address(), st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ids returns the node ids in index order.
func (c *Cluster) ids() []string {
	out := make([]string, len(c.Nodes))
	for i, nd := range c.Nodes {
		out[i] = nd.ID()
	}
	return out
}

// WaitHealthy waits until every node runs, exactly one is active, every
// other is an unsealed standby, and the raft configuration lists every
// node as a voter. It returns the active node's index.
func (c *Cluster) WaitHealthy(t testing.TB) int {
	t.Helper()
	clients := make([]*vaultapi.Client, len(c.Nodes))
	for i, nd := range c.Nodes {
		clients[i] = nd.Client(t)
	}
	return WaitHealthy(t, clients, c.ids(), healthyTimeout)
}

// Leader waits until exactly one running node is active and returns its
// index.
func (c *Cluster) Leader(t testing.TB) int {
	t.Helper()
	clients := make([]*vaultapi.Client, len(c.Nodes))
	for i, nd := range c.Nodes {
		if nd.Running() {
			clients[i] = nd.Client(t)
		}
	}
	return WaitActive(t, clients, healthyTimeout)
}

// Close stops every running node. Start registers it with t.Cleanup.
func (c *Cluster) Close() {
	for _, nd := range c.Nodes {
		nd.Stop()
	}
}

// LogTails logs the last lines of every node's log.
func (c *Cluster) LogTails(t testing.TB, lines int) {
	t.Helper()
	for _, nd := range c.Nodes {
		t.Logf("---- last %d log lines of %s ----\n%s", lines, nd.ID(), Tail(nd.Logs(), lines))
	}
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// CheckNoLeaks fails the test if any of secrets appears in any node's log.
func (c *Cluster) CheckNoLeaks(t testing.TB, secrets ...string) {
	t.Helper()
	for _, nd := range c.Nodes {
		logs := nd.Logs()
		for _, s := range secrets {
			if s != "" && strings.Contains(logs, s) {
				t.Errorf("testcluster: %s's log contains a secret value (%d bytes)", nd.ID(), len(s))
			}
		}
	}
}

// String names the cluster's nodes for messages.
func (c *Cluster) String() string { return fmt.Sprintf("cluster%v", c.ids()) }
