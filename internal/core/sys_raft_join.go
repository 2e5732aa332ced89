package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/cofferdev/coffer/internal/autopilot"
	"github.com/cofferdev/coffer/internal/cluster"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/raft"
)

// nodeDirPath holds one record per cluster member: its API and cluster
// addresses, written by the active node (sys/leader, sys/ha-status).
const nodeDirPath = "sys/ha/nodes/"

// promoteTimeout bounds how long the leader keeps trying to make a joined
// non-voter a voter.
const promoteTimeout = 5 * time.Minute

// nodeRecord is a member's entry in the node directory.
type nodeRecord struct {
	NodeID      string `json:"node_id"`
	APIAddr     string `json:"api_addr"`
	ClusterAddr string `json:"cluster_addr"`
	// NonVoter: the node joined as a permanent non-voter, which autopilot
	// never promotes.
	NonVoter bool `json:"non_voter,omitempty"`
}

// raftJoinPaths serve the leader's side of joining. Both paths take no
// token: the joining node proves itself by opening the challenge with the
// cluster's root key.
func (c *Core) raftJoinPaths() []*logical.Path {
	str := func() *logical.Field { return &logical.Field{Type: logical.TypeString} }
	return []*logical.Path{
		{Pattern: "storage/raft/bootstrap/challenge", Help: "a challenge for a node joining the raft cluster",
			Fields:     map[string]*logical.Field{"server_id": {Type: logical.TypeString, Required: true}},
			Operations: ops(map[logical.Operation]logical.Handler{logical.UpdateOperation: c.raftChallenge})},
		{Pattern: "storage/raft/bootstrap/answer", Help: "the answer of a node joining the raft cluster",
			Fields: map[string]*logical.Field{"server_id": str(), "answer": str(), "cluster_addr": str(),
				"csr": str(), "api_addr": str()},
			Operations: ops(map[logical.Operation]logical.Handler{logical.UpdateOperation: c.raftAnswer})},
	}
}

func (c *Core) raftChallenge(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if _, err := c.raftBackend(); err != nil {
		return nil, err
	}
	id := d.String("server_id")
	if err := cluster.ValidateNodeID(id); err != nil {
		return nil, logical.InvalidRequest("server_id: %v", err)
	}
	rootKey, err := c.barrier.RootKey()
	if err != nil {
		return nil, err
	}
	defer clear(rootKey)
	sealed, err := c.challenges.New(id, rootKey)
	if err != nil {
		return nil, err
	}
	cfg, err := c.physical.Get(ctx, sealConfigKey)
	if err != nil {
		return nil, fmt.Errorf("core: read seal configuration: %w", err)
	}
	wrapped, err := c.physical.Get(ctx, rootKeyKey)
	if err != nil {
		return nil, fmt.Errorf("core: read wrapped root key: %w", err)
	}
	var sr sealRecord
	if err := json.Unmarshal(cfg.Value, &sr); err != nil {
		return nil, fmt.Errorf("core: corrupt seal config: %w", err)
	}
	rec, err := json.Marshal(joinedSealRecord{Config: cfg.Value, WrappedKey: wrapped.Value})
	if err != nil {
		return nil, err
	}
	resp := cluster.ChallengeResponse{Challenge: sealed, SealConfig: sr.Barrier, SealRecord: rec}
	return logical.DataResponse(resp.Data()), nil
}

func (c *Core) raftAnswer(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	rb, err := c.raftBackend()
	if err != nil {
		return nil, err
	}
	ar, err := cluster.DecodeAnswerRequest(req.Data)
	if err != nil {
		return nil, logical.InvalidRequest("%v", err)
	}
	if err := c.challenges.Check(ar.ServerID, ar.Answer); err != nil {
		return nil, logical.ErrPermissionDenied
	}
	ca, _, err := cluster.LoadOrCreateCA(ctx, c.barrier)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(ar.ClusterAddr)
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = append(ips, ip)
	}
	certPEM, err := cluster.SignCSR(ca, ar.CSR, ar.ServerID, ips)
	if err != nil {
		return nil, logical.InvalidRequest("csr: %v", err)
	}
	// The record first, so autopilot knows a permanent non-voter before it
	// sees the node. Then a non-voter: adding a voter to a one-node cluster
	// would need the new node's vote before it even has its certificate.
	// Autopilot promotes it once it has been healthy for the stabilisation
	// time, unless it asked to stay a non-voter.
	rec := nodeRecord{NodeID: ar.ServerID, APIAddr: ar.APIAddr, ClusterAddr: ar.ClusterAddr, NonVoter: ar.NonVoter}
	if err := c.putNodeRecord(ctx, rec); err != nil {
		return nil, err
	}
	if err := c.addNonvoter(rb, ar.ServerID, ar.ClusterAddr, !ar.NonVoter); err != nil {
		return nil, fmt.Errorf("core: add %s to the raft cluster: %w", ar.ServerID, err)
	}
	peers, err := rb.Peers()
	if err != nil {
		return nil, err
	}
	out := cluster.AnswerResponse{CACertPEM: ca.CertPEM, NodeCertPEM: certPEM}
	for _, p := range peers {
		out.Peers = append(out.Peers, cluster.Peer{ID: p.ID, Address: p.Address})
	}
	c.logger.Info("core: node joined the raft cluster", "node_id", ar.ServerID, "cluster_addr", ar.ClusterAddr)
	return logical.DataResponse(out.Data()), nil
}

// addNonvoter adds a joining node through autopilot, which promotes it
// when it is stable (unless its node record says it stays a non-voter);
// without a running autopilot, directly, and with promote a goroutine
// promotes it.
func (c *Core) addNonvoter(rb *raft.Backend, id, addr string, promote bool) error {
	if c.pilot != nil {
		err := c.pilot.mgr.AddServer(id, addr)
		if !errors.Is(err, autopilot.ErrNotRunning) {
			return err
		}
	}
	if err := rb.AddNonvoter(id, addr); err != nil {
		return err
	}
	if promote {
		go c.promote(id, addr)
	}
	return nil
}

// promote makes a joined non-voter a voter once it takes part in raft (it
// has installed its certificate and caught up enough to acknowledge).
func (c *Core) promote(id, addr string) {
	rb, err := c.raftBackend()
	if err != nil {
		return
	}
	deadline := time.Now().Add(promoteTimeout)
	for delay := 100 * time.Millisecond; time.Now().Before(deadline); delay = min(2*delay, 5*time.Second) {
		err = rb.AddVoter(id, addr)
		if err == nil {
			c.logger.Info("core: raft node is now a voter", "node_id", id)
			return
		}
		if !rb.IsLeader() {
			return // the new leader's own promotion, or an operator, takes over
		}
		time.Sleep(delay)
	}
	c.logger.Error("core: raft node could not be made a voter; it stays a non-voter", "node_id", id, "error", err)
}

func (c *Core) putNodeRecord(ctx context.Context, rec nodeRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return c.barrier.Put(ctx, &storage.Entry{Key: nodeDirPath + rec.NodeID, Value: b})
}

func (c *Core) nodeRecord(ctx context.Context, id string) (*nodeRecord, error) {
	e, err := c.barrier.Get(ctx, nodeDirPath+id)
	if err != nil {
		return nil, err
	}
	var rec nodeRecord
	if err := json.Unmarshal(e.Value, &rec); err != nil {
		return nil, fmt.Errorf("core: corrupt node record %s: %w", id, err)
	}
	return &rec, nil
}

// becomeActive runs on a node of a raft cluster each time it becomes the
// active node: its cluster certificate must come from the CA in the
// barrier (the first active node of a cluster replaces the throwaway one it
// bootstrapped with), and its node record must carry its addresses.
func (c *Core) becomeActive(ctx context.Context) error {
	rb, err := c.raftBackend()
	if err != nil {
		return nil
	}
	if err := c.restoreClusterIdentity(ctx); err != nil {
		return err
	}
	ca, _, err := cluster.LoadOrCreateCA(ctx, c.barrier)
	if err != nil {
		return err
	}
	files, present, err := cluster.LoadNodeFiles(c.clusterDir)
	if err != nil || !present || !bytes.Equal(files.CACertPEM, ca.CertPEM) {
		host, _, _ := net.SplitHostPort(rb.LocalAddr())
		var ips []net.IP
		if ip := net.ParseIP(host); ip != nil {
			ips = append(ips, ip)
		}
		csr, keyPEM, err := cluster.NewCSR(rb.NodeID())
		if err != nil {
			return err
		}
		certPEM, err := cluster.SignCSR(ca, csr, rb.NodeID(), ips)
		if err != nil {
			return err
		}
		if err := c.installIdentity(rb, cluster.NodeFiles{CACertPEM: ca.CertPEM, CertPEM: certPEM, KeyPEM: keyPEM}); err != nil {
			return err
		}
	}
	want := nodeRecord{NodeID: rb.NodeID(), APIAddr: c.apiAddr, ClusterAddr: rb.LocalAddr()}
	if have, err := c.nodeRecord(ctx, want.NodeID); err == nil && *have == want {
		return nil
	} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return c.putNodeRecord(ctx, want)
}

// keepClusterIdentity remembers, before a forced restore replaces the
// barrier with another cluster's data, this cluster's CA and node records:
// the nodes' certificates come from this CA, so the cluster port keeps
// working only if the restored data keeps it too. They are held in memory
// until the node is unsealed again and becomes active (sealLock held).
func (c *Core) keepClusterIdentity(ctx context.Context) error {
	keep := map[string][]byte{}
	if e, err := c.barrier.Get(ctx, cluster.CAKey); err == nil {
		keep[cluster.CAKey] = e.Value
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	names, err := c.barrier.List(ctx, nodeDirPath)
	if err != nil {
		return err
	}
	for _, n := range names {
		e, err := c.barrier.Get(ctx, nodeDirPath+n)
		if err != nil {
			return err
		}
		keep[nodeDirPath+n] = e.Value
	}
	c.keptCluster = keep
	return nil
}

// restoreClusterIdentity writes back what keepClusterIdentity kept.
func (c *Core) restoreClusterIdentity(ctx context.Context) error {
	if c.keptCluster == nil {
		return nil
	}
	names, err := c.barrier.List(ctx, nodeDirPath)
	if err != nil {
		return err
	}
	ops := make([]storage.TxnOp, 0, len(names)+len(c.keptCluster))
	for _, n := range names {
		if _, kept := c.keptCluster[nodeDirPath+n]; !kept {
			ops = append(ops, storage.TxnOp{Kind: storage.OpDelete, Entry: storage.Entry{Key: nodeDirPath + n}})
		}
	}
	for k, v := range c.keptCluster {
		ops = append(ops, storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: k, Value: v}})
	}
	if err := c.barrier.Transaction(ctx, ops); err != nil {
		return fmt.Errorf("core: keep the cluster's CA after a restore: %w", err)
	}
	for _, v := range c.keptCluster {
		clear(v)
	}
	c.keptCluster = nil
	c.logger.Info("core: kept this cluster's CA and node records over the restored snapshot's")
	return nil
}
