package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cofferdev/coffer/internal/cluster"
	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/core"
	"github.com/cofferdev/coffer/internal/storage/raft"
)

// raftNode is the server's side of a raft node: the storage, and the hooks
// raft calls before the core exists (bound once it does).
type raftNode struct {
	backend *raft.Backend
	// tlsDir holds the node's cluster certificate, key and the CA.
	tlsDir string
	// joins are the retry_join blocks; none means the node bootstraps
	// itself when it has no raft state.
	joins []config.RetryJoin
	core  atomic.Pointer[core.Core]
	rpc   atomic.Pointer[http.Handler]
}

// openRaft opens raft storage. A node with no raft state waits: sys/init
// bootstraps a new one-member cluster on it, while retry_join or
// sys/storage/raft/join make it join an existing one. The node's cluster
// certificate comes from its data directory; a node without one has no
// identity until it joins, or until it first becomes active and issues
// itself one from the cluster CA.
func openRaft(sc config.Storage, clusterAddr, clusterBind string, logger *slog.Logger) (*raftNode, error) {
	nodeID := sc.Options["node_id"]
	if nodeID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			return nil, errors.New(`server: storage "raft": node_id is not set and the host name is unknown`)
		}
		nodeID = host
	}
	if err := cluster.ValidateNodeID(nodeID); err != nil {
		return nil, fmt.Errorf(`server: storage "raft": node_id: %w`, err)
	}
	advertise, err := raftBindAddr(clusterAddr)
	if err != nil {
		return nil, err
	}
	bind := advertise
	if clusterBind != "" {
		bind = clusterBind
	} else {
		advertise = ""
	}
	// Dial other nodes from the address the cluster port listens on (a
	// multi-homed host's cluster network), unless it listens on all.
	var source string
	if host, _, err := net.SplitHostPort(bind); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			source = ip.String()
		}
	}
	var tune [2]uint64
	for i, name := range []string{"snapshot_threshold", "trailing_logs"} {
		if v := sc.Options[name]; v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n == 0 {
				return nil, fmt.Errorf(`server: storage "raft": %s must be a positive whole number, not %q`, name, v)
			}
			tune[i] = n
		}
	}
	n := &raftNode{tlsDir: filepath.Join(sc.Options["path"], "tls"), joins: sc.RetryJoin}
	var id raft.Identity
	files, present, err := cluster.LoadNodeFiles(n.tlsDir)
	if err != nil {
		return nil, fmt.Errorf("server: cluster certificate: %w", err)
	}
	if present {
		if id, err = raft.IdentityFromPEM(files.CACertPEM, files.CertPEM, files.KeyPEM); err != nil {
			return nil, fmt.Errorf("server: cluster certificate: %w", err)
		}
	}
	n.backend, err = raft.Open(raft.Config{Dir: sc.Options["path"], NodeID: nodeID, BindAddr: bind,
		AdvertiseAddr: advertise, DialSource: source, SnapshotThreshold: tune[0], TrailingLogs: tune[1],
		Identity: id, Logger: logger, RPCHandler: http.HandlerFunc(n.serveRPC),
		OnApply: n.onApply, OnRestore: n.onRestore, OnLeaderChange: n.onLeaderChange})
	if err != nil {
		return nil, err
	}
	if err := n.waitSoleLeader(); err != nil {
		_ = n.backend.Close()
		return nil, err
	}
	return n, nil
}

// soleLeaderTimeout bounds how long start-up waits for a one-member
// cluster's node to elect itself.
const soleLeaderTimeout = 30 * time.Second

// waitSoleLeader waits, on a node that is the only member of its cluster,
// until it leads, so a single node serves as soon as it is unsealed.
func (n *raftNode) waitSoleLeader() error {
	b := n.backend
	peers, err := b.Peers()
	if err != nil || len(peers) != 1 || peers[0].ID != b.NodeID() {
		return nil
	}
	deadline := time.Now().Add(soleLeaderTimeout)
	for !b.IsLeader() {
		if time.Now().After(deadline) {
			return fmt.Errorf("server: raft node %s, the only member of its cluster, did not become leader within %s", b.NodeID(), soleLeaderTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func (n *raftNode) bind(c *core.Core, rpc http.Handler) {
	n.rpc.Store(&rpc)
	n.core.Store(c)
	c.LeadershipChanged(n.backend.IsLeader())
}

func (n *raftNode) serveRPC(w http.ResponseWriter, r *http.Request) {
	h := n.rpc.Load()
	if h == nil {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	(*h).ServeHTTP(w, r)
}

func (n *raftNode) onApply(keys []string) {
	if c := n.core.Load(); c != nil {
		c.Invalidate(keys)
	}
}

func (n *raftNode) onRestore() {
	if c := n.core.Load(); c != nil {
		c.InvalidateAll()
	}
}

func (n *raftNode) onLeaderChange(_ string, self bool) {
	if c := n.core.Load(); c != nil {
		c.LeadershipChanged(self)
	}
}

// ActiveNode implements httpapi.Forwarder over the cluster port.
func (n *raftNode) ActiveNode() (*http.Client, string, error) {
	u, err := n.backend.LeaderRPCURL()
	if err != nil {
		return nil, "", err
	}
	return n.backend.RPCClient(), u, nil
}

// startJoining runs retry_join in the background while the node has not
// joined a cluster.
func (n *raftNode) startJoining(ctx context.Context, c *core.Core, logger *slog.Logger) {
	if len(n.joins) == 0 || !c.CanJoin() {
		return
	}
	targets := func(ctx context.Context) ([]cluster.Leader, error) {
		return cluster.Targets(ctx, n.joins, net.DefaultResolver.LookupIPAddr)
	}
	go func() {
		if err := c.JoinLoop(ctx, targets); err != nil && ctx.Err() == nil {
			logger.Error("server: retry_join gave up", "error", err)
		}
	}()
}

// raftBindAddr is the host:port of cluster_addr, or a loopback port chosen
// by the kernel when cluster_addr is not set (a single node needs no
// reachable cluster port).
func raftBindAddr(clusterAddr string) (string, error) {
	if clusterAddr == "" {
		return "127.0.0.1:0", nil
	}
	u, err := url.Parse(clusterAddr)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("server: cluster_addr %q is not a URL such as https://10.0.0.5:8201", clusterAddr)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "8201"), nil
	}
	return u.Host, nil
}
