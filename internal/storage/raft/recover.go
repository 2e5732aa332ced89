package raft

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	hraft "github.com/hashicorp/raft"

	"github.com/cofferdev/coffer/internal/storage/bolt"
)

// ErrNoState is returned by Recover and ReadConfiguration for a directory
// that holds no raft state (nothing to recover, or the wrong directory).
var ErrNoState = errors.New("storage: raft: no raft state in the directory")

// ErrInUse is returned by Recover and ReadConfiguration when another
// process (the node itself, still running) holds the directory's files.
var ErrInUse = errors.New("storage: raft: the data directory is in use; stop the node first")

// ReadConfiguration reads the cluster configuration stored in a stopped
// node's data directory (its latest, committed or not), without starting
// the node or touching the network. The node must not be running: its
// files are locked while it is.
func ReadConfiguration(dir string) ([]Peer, error) {
	var peers []Peer
	err := withOfflineStores(dir, "reader", func(b *Backend, trans hraft.Transport) error {
		conf, err := hraft.GetConfiguration(b.raftConfig(), b.fsm, b.logs, b.wal, b.snaps, trans)
		if err != nil {
			return fmt.Errorf("storage: raft: read configuration: %w", err)
		}
		for _, s := range conf.Servers {
			peers = append(peers, Peer{ID: string(s.ID), Address: string(s.Address), Voter: s.Suffrage == hraft.Voter})
		}
		return nil
	})
	return peers, err
}

// Recover rewrites a stopped node's raft configuration so that it is the
// only voter, with hashicorp/raft's RecoverCluster: for a cluster that lost
// its quorum for good. The node keeps every entry it has (committed or not)
// and, started again, elects itself; other nodes join it afresh. addr is
// the node's cluster address; empty keeps the address the configuration
// already lists for nodeID.
func Recover(dir, nodeID, addr string) error {
	if nodeID == "" {
		return fmt.Errorf("%w: no node id", ErrInvalidConfig)
	}
	if addr == "" {
		peers, err := ReadConfiguration(dir)
		if err != nil {
			return err
		}
		for _, p := range peers {
			if p.ID == nodeID {
				addr = p.Address
			}
		}
		if addr == "" {
			return fmt.Errorf("%w: node %q is not in the stored configuration; give its address", ErrInvalidConfig, nodeID)
		}
	}
	conf := hraft.Configuration{Servers: []hraft.Server{{
		Suffrage: hraft.Voter, ID: hraft.ServerID(nodeID), Address: hraft.ServerAddress(addr),
	}}}
	return withOfflineStores(dir, nodeID, func(b *Backend, trans hraft.Transport) error {
		rc := b.raftConfig()
		rc.LocalID = hraft.ServerID(nodeID)
		if err := hraft.RecoverCluster(rc, b.fsm, b.logs, b.wal, b.snaps, trans, conf); err != nil {
			return fmt.Errorf("storage: raft: recover: %w", err)
		}
		return nil
	})
}

// withOfflineStores opens a stopped node's stores (refusing a directory
// with no raft state), runs fn with an in-memory transport that never
// carries traffic, and closes the stores.
func withOfflineStores(dir, nodeID string, fn func(*Backend, hraft.Transport) error) error {
	if _, err := os.Stat(filepath.Join(dir, "wal")); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNoState, dir, err)
	}
	// The log's meta store waits for its file lock forever; the state
	// machine's gives up after a second, so it tells a running node.
	probe, err := bolt.Open(filepath.Join(dir, "fsm"), bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInUse, err)
	}
	if err := probe.Close(); err != nil {
		return err
	}
	b := &Backend{cfg: Config{Dir: dir, NodeID: nodeID}}
	if err := b.openStores(); err != nil {
		b.closeStores()
		return err
	}
	defer b.closeStores()
	has, err := hraft.HasExistingState(b.logs, b.wal, b.snaps)
	if err != nil {
		return fmt.Errorf("storage: raft: %w", err)
	}
	if !has {
		return fmt.Errorf("%w: %s", ErrNoState, dir)
	}
	_, trans := hraft.NewInmemTransport("")
	defer trans.Close()
	return fn(b, trans)
}

// Configuration lists the cluster configuration as this node knows it,
// with the log index it was written at.
func (b *Backend) Configuration() ([]Peer, uint64, error) {
	f := b.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, 0, fmt.Errorf("storage: raft: configuration: %w", err)
	}
	peers, err := b.Peers()
	return peers, f.Index(), err
}
