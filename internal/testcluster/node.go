package testcluster

import (
	"context"
	"fmt"
	"github.com/cofferdev/coffer/internal/logical/logicaltest"
	"log/slog"
	"sync"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/server"
)

// Node is one in-process server of a Cluster.
type Node struct {
	// Index is the node's position in Cluster.Nodes.
	Index   int
	cluster *Cluster
	logs    *logicaltest.LogBuffer

	mu  sync.Mutex
	srv *server.Server // nil while stopped
}

// ID is the node's raft node id.
func (n *Node) ID() string { return n.cluster.Layout.Nodes[n.Index].ID }

// Addr is the node's API base URL (https://127.0.0.1:port).
func (n *Node) Addr() string { return n.cluster.Layout.URL(n.Index) }

// Server is the running server, nil while the node is stopped.
func (n *Node) Server() *server.Server {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.srv
}

// Running reports whether the node has been started and not stopped.
func (n *Node) Running() bool { return n.Server() != nil }

// Client returns a new Vault API client for the node with the root token.
func (n *Node) Client(t testing.TB) *vaultapi.Client {
	t.Helper()
	return NewClient(t, n.Addr(), n.cluster.Layout.TLS.CAFile, n.cluster.RootToken)
}

// anonClient is a client without a token.
func (n *Node) anonClient(t testing.TB) *vaultapi.Client {
	t.Helper()
	return NewClient(t, n.Addr(), n.cluster.Layout.TLS.CAFile, "")
}

// Logs returns everything the node logged, across restarts.
func (n *Node) Logs() string { return n.logs.String() }

// start parses the node's configuration file and starts the server.
func (n *Node) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv != nil {
		return fmt.Errorf("testcluster: %s is already running", n.ID())
	}
	l := n.cluster.Layout
	cfg, err := config.Parse(n.ID()+".hcl", []byte(l.Config(n.Index)))
	if err != nil {
		return fmt.Errorf("testcluster: %s config: %w", n.ID(), err)
	}
	logger := slog.New(slog.NewTextHandler(n.logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", n.ID())
	srv, err := server.Start(context.Background(), cfg, logger)
	if err != nil {
		return fmt.Errorf("testcluster: start %s: %w", n.ID(), err)
	}
	n.srv = srv
	return nil
}

// Stop shuts the node down (listeners, seal, storage), as a clean stop of
// the process would. Stopping a stopped node does nothing.
func (n *Node) Stop() {
	n.mu.Lock()
	srv := n.srv
	n.srv = nil
	n.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Restart stops the node if it runs and starts it again from its data
// directory; the static seal unseals it and it rejoins the cluster.
func (n *Node) Restart(t testing.TB) {
	t.Helper()
	n.Stop()
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	waitUp(t, n.anonClient(t))
}
