package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/storage/raft"
)

// raftStartTimeout bounds how long start-up waits for the node to lead its
// one-member cluster.
const raftStartTimeout = 30 * time.Second

// openRaft starts raft storage as a one-node cluster: the node bootstraps
// itself on first start and leads it. Joining other nodes (retry_join,
// sys/storage/raft/join) is not available yet, so the cluster port only
// carries the node's own traffic; its certificate comes from a CA made at
// start-up and never leaves the process.
func openRaft(sc config.Storage, clusterAddr string, logger *slog.Logger) (*raft.Backend, error) {
	if len(sc.RetryJoin) > 0 {
		return nil, errors.New(`server: storage "raft": retry_join is not available yet; raft runs as a single node in this release`)
	}
	nodeID := sc.Options["node_id"]
	if nodeID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			return nil, errors.New(`server: storage "raft": node_id is not set and the host name is unknown`)
		}
		nodeID = host
	}
	bind, err := raftBindAddr(clusterAddr)
	if err != nil {
		return nil, err
	}
	ca, err := raft.NewCA(nodeID)
	if err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(bind)
	if err != nil {
		return nil, fmt.Errorf("server: cluster address %q: %w", bind, err)
	}
	srvTLS, cliTLS, err := ca.NodeTLS(nodeID, []net.IP{net.ParseIP(host)})
	if err != nil {
		return nil, err
	}
	b, err := raft.Open(raft.Config{Dir: sc.Options["path"], NodeID: nodeID, BindAddr: bind,
		ServerTLS: srvTLS, ClientTLS: cliTLS, Logger: logger})
	if err != nil {
		return nil, err
	}
	if err := b.Bootstrap(); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("server: bootstrap raft: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), raftStartTimeout)
	defer cancel()
	for !b.IsLeader() {
		select {
		case <-ctx.Done():
			_ = b.Close()
			return nil, fmt.Errorf("server: raft node %s did not become leader within %s", nodeID, raftStartTimeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return b, nil
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
