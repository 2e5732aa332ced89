// Package raft is the replicated storage.Backend: hashicorp/raft with its
// log in raft-wal, its state machine in bbolt, and mutual TLS between nodes.
// The leader applies writes; every node serves reads from its own state.
//
// Nodes talk over one cluster port per node, multiplexed by ALPN:
// coffer-raft/1 carries raft's RPCs, coffer-rpc/1 carries HTTP/1.1 between
// nodes (the read index and stats under /cluster/v1/, and whatever
// Config.RPCHandler serves, such as forwarded client requests). Both sides
// prove a node certificate of the cluster CA whose CommonName is the node
// ID, and a node accepts connections only from the members of its raft
// configuration (from any node of its CA before it has joined one).
package raft

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"

	"github.com/cofferdev/coffer/internal/storage"
)

// Errors the backend reports.
var (
	// ErrNotLeader is returned by writes on a node that is not the leader;
	// the error names the leader's address when one is known.
	ErrNotLeader = errors.New("storage: raft: not the leader")
	// ErrOutcomeUnknown is returned by a write whose leader lost its
	// leadership before the write committed: a later leader may still apply
	// it, so the caller must not assume either outcome.
	ErrOutcomeUnknown = errors.New("storage: raft: leadership lost during the write")
	// ErrInvalidConfig is returned by Open for an incomplete configuration.
	ErrInvalidConfig = errors.New("storage: raft: invalid configuration")
)

// Timing tunes raft's failure detection. The zero value is raft's default
// (1 s heartbeat and election timeouts); tests use shorter ones.
type Timing struct {
	HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout, CommitTimeout time.Duration
}

// Config configures one node.
type Config struct {
	// Dir holds the raft log (wal/), snapshots (snapshots/) and the state
	// machine (fsm/). Created with mode 0700.
	Dir string
	// NodeID names this node in the cluster; unique and stable.
	NodeID string
	// BindAddr is the cluster listener (host:port); AdvertiseAddr, if set,
	// is the address other nodes dial (defaults to the bound address).
	BindAddr, AdvertiseAddr string
	// DialSource, if set, is the local IP this node dials other nodes from
	// (multi-homed hosts; tests that cut links by source address).
	DialSource string
	// Identity is what the node shows and trusts on the cluster port (see
	// SetIdentity). It may be empty for a node that has not joined a
	// cluster yet: such a node refuses every connection and dials none.
	Identity Identity
	// RPCHandler serves coffer-rpc/1 requests from other nodes on paths
	// outside /cluster/v1/; PeerNodeID(r.Context()) names the sender. Nil
	// answers 404.
	RPCHandler http.Handler
	// OnApply, if set, is called after each state-machine batch commits
	// with the storage keys (as stored: the barrier's encrypted names) its
	// operations wrote or deleted, in log order, before readers waiting
	// for the batch (WaitApplied) go on. It runs on raft's apply
	// goroutine: it must be quick and must not write to this backend.
	OnApply func(keys []string)
	// OnRestore, if set, is called after a snapshot replaced the whole
	// state machine (a restore, or a follower catching up from the
	// leader's snapshot; also during Open after an unclean stop). Same
	// rules as OnApply.
	OnRestore func()
	// OnLeaderChange, if set, is called whenever the known leader changes
	// (leaderID "" when there is none; self when this node leads), once
	// right after Open, and a last time during Close. Calls come from one
	// goroutine, in order, outside raft's locks.
	OnLeaderChange func(leaderID string, self bool)
	Logger         *slog.Logger
	// ApplyTimeout bounds a write's wait for commit (10 s if zero).
	ApplyTimeout time.Duration
	// SnapshotThreshold is the number of log entries between snapshots
	// (8192 if zero); SnapshotRetain the snapshots kept on disk (2 if zero).
	SnapshotThreshold uint64
	SnapshotRetain    int
	// TrailingLogs is how many log entries a snapshot leaves behind for
	// followers that lag (10240 if zero); a follower further behind is
	// sent the snapshot.
	TrailingLogs uint64
	Timing       Timing
}

func (c *Config) validate() error {
	switch {
	case c.Dir == "":
		return fmt.Errorf("%w: no data directory", ErrInvalidConfig)
	case c.NodeID == "":
		return fmt.Errorf("%w: no node id", ErrInvalidConfig)
	case c.BindAddr == "":
		return fmt.Errorf("%w: no cluster address", ErrInvalidConfig)
	}
	return nil
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Backend is one node's view of the replicated store.
type Backend struct {
	cfg  Config
	raft *hraft.Raft
	fsm  *fsm
	// fsmTrusted is false when the state machine was rebuilt at start (an
	// unclean stop): raft then restores the latest snapshot into it.
	fsmTrusted bool
	// readTerm is the term in which this node, as leader, last committed
	// a barrier for linearizable reads.
	readTerm atomic.Uint64
	// visible memoizes lastVisible for the index last asked about.
	visible   atomic.Pointer[visibleAt]
	logs      *countingLogs
	wal       *wal.WAL
	meta      *metadb.BoltMetaDB
	snaps     hraft.SnapshotStore
	transport *hraft.NetworkTransport
	timeout   time.Duration

	port      *clusterPort
	rpc       *http.Client
	readIndex *readIndexBatch
	// leaderRead shares the leader's own read-index rounds between
	// concurrent readers, as readIndex does on followers.
	leaderRead *readIndexBatch
	// readIndexServed counts read-index requests this node answered.
	readIndexServed atomic.Uint64
	leaders         *leaderWatch
	// stop ends work that outlives a request (shared read-index requests).
	stop      context.CancelFunc
	closeOnce sync.Once
	closeErr  error
}

var (
	_ storage.Backend = (*Backend)(nil)
	_ storage.Closer  = (*Backend)(nil)
)

// Open starts a node from its data directory. A node with no raft state
// waits to be bootstrapped (Bootstrap) or joined by a leader (AddVoter).
func Open(cfg Config) (*Backend, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	b := &Backend{cfg: cfg, timeout: cfg.ApplyTimeout}
	if b.timeout == 0 {
		b.timeout = 10 * time.Second
	}
	var ident *tlsIdentity
	if !cfg.Identity.IsZero() {
		var err error
		if ident, err = b.checkIdentity(cfg.Identity); err != nil {
			return nil, err
		}
	}
	advertise, source, err := cfg.addrs()
	if err != nil {
		return nil, err
	}
	if err := b.openStores(); err != nil {
		b.closeStores()
		return nil, err
	}
	b.fsm.onApply, b.fsm.onRestore = cfg.OnApply, cfg.OnRestore
	if b.port, err = listenCluster(cfg.BindAddr, advertise, source, cfg.logger()); err != nil {
		b.closeStores()
		return nil, fmt.Errorf("storage: raft: cluster port: %w", err)
	}
	if ident != nil {
		b.port.ident.Store(ident)
	}
	b.fsm.onConfig = func() { go b.port.sweep() }
	b.transport = hraft.NewNetworkTransportWithConfig(&hraft.NetworkTransportConfig{
		Stream: raftStream{port: b.port}, MaxPool: 3, Timeout: 10 * time.Second, Logger: b.hclog("transport"),
	})
	r, err := hraft.NewRaft(b.raftConfig(), b.fsm, b.logs, b.wal, b.snaps, guardedTransport{NetworkTransport: b.transport, timeout: 10 * time.Second})
	if err != nil {
		_ = b.transport.Close()
		b.closeStores()
		return nil, fmt.Errorf("storage: raft: start: %w", err)
	}
	b.raft = r
	ctx, stop := context.WithCancel(context.Background())
	b.stop = stop
	b.rpc = b.newRPCClient()
	b.readIndex = newReadIndexBatch(ctx, b.timeout, b.fetchReadIndex)
	b.leaderRead = newReadIndexBatch(ctx, b.timeout, b.ReadIndex)
	b.port.serve(b.authorized, b.nodeAt, b.rpcHandler(cfg.RPCHandler))
	b.leaders = b.startLeaderWatch()
	return b, nil
}

// addrs resolves the advertised address and the dial source.
func (c *Config) addrs() (advertise, source net.Addr, err error) {
	if c.AdvertiseAddr != "" {
		a, err := net.ResolveTCPAddr("tcp", c.AdvertiseAddr)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: advertise address: %w", ErrInvalidConfig, err)
		}
		advertise = a
	}
	if c.DialSource != "" {
		ip := net.ParseIP(c.DialSource)
		if ip == nil {
			return nil, nil, fmt.Errorf("%w: dial source %q is not an IP address", ErrInvalidConfig, c.DialSource)
		}
		source = &net.TCPAddr{IP: ip}
	}
	return advertise, source, nil
}

// checkIdentity parses an identity and checks it names this node.
func (b *Backend) checkIdentity(id Identity) (*tlsIdentity, error) {
	t, err := parseIdentity(id)
	if err != nil {
		return nil, err
	}
	if t.nodeID != b.cfg.NodeID {
		return nil, fmt.Errorf("%w: the node certificate is for node %q, not %q", ErrInvalidConfig, t.nodeID, b.cfg.NodeID)
	}
	return t, nil
}

// SetIdentity replaces the node's cluster identity (CA and node
// certificate). New connections, accepted and dialled, use it; open ones
// are kept. The certificate must name this node.
func (b *Backend) SetIdentity(id Identity) error {
	t, err := b.checkIdentity(id)
	if err != nil {
		return err
	}
	b.port.ident.Store(t)
	b.rpc.CloseIdleConnections()
	return nil
}

// authorized reports whether a node may connect: it is in this node's
// current raft configuration, or that configuration is empty (this node
// has not joined a cluster yet).
func (b *Backend) authorized(nodeID string) bool {
	servers := b.raft.GetConfiguration().Configuration().Servers
	if len(servers) == 0 {
		return true
	}
	for _, s := range servers {
		if string(s.ID) == nodeID {
			return true
		}
	}
	return false
}

// nodeAt names the node the configuration lists at a cluster address, ""
// when none does.
func (b *Backend) nodeAt(addr string) string {
	for _, s := range b.raft.GetConfiguration().Configuration().Servers {
		if string(s.Address) == addr {
			return string(s.ID)
		}
	}
	return ""
}

func (b *Backend) openStores() error {
	if err := os.MkdirAll(b.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("storage: raft: data directory: %w", err)
	}
	walDir := filepath.Join(b.cfg.Dir, "wal")
	if err := os.MkdirAll(walDir, 0o700); err != nil {
		return fmt.Errorf("storage: raft: log directory: %w", err)
	}
	// raft-wal does not close a meta store it opened itself, so the node
	// owns it and closes it after the log.
	b.meta = &metadb.BoltMetaDB{}
	w, err := wal.Open(walDir, wal.WithLogger(b.hclog("wal")), wal.WithMetaStore(b.meta))
	if err != nil {
		return fmt.Errorf("storage: raft: open log: %w", err)
	}
	b.wal, b.logs = w, &countingLogs{LogStore: w}
	retain := b.cfg.SnapshotRetain
	if retain == 0 {
		retain = 2
	}
	if b.snaps, err = hraft.NewFileSnapshotStoreWithLogger(b.cfg.Dir, retain, b.hclog("snapshots")); err != nil {
		return fmt.Errorf("storage: raft: snapshot store: %w", err)
	}
	if b.fsm, b.fsmTrusted, err = openFSM(b.cfg.Dir); err != nil {
		return fmt.Errorf("storage: raft: state machine: %w", err)
	}
	return nil
}

func (b *Backend) closeStores() { b.closeStoresClean(false) }

// closeStoresClean closes the stores; clean marks the state machine as
// consistent with the log for the next start.
func (b *Backend) closeStoresClean(clean bool) {
	if b.fsm != nil {
		_ = b.fsm.close(clean)
	}
	if b.wal != nil {
		_ = b.wal.Close()
	}
	if b.meta != nil {
		_ = b.meta.Close()
	}
}

func (b *Backend) raftConfig() *hraft.Config {
	rc := hraft.DefaultConfig()
	rc.LocalID = hraft.ServerID(b.cfg.NodeID)
	rc.Logger = b.hclog("raft")
	// Many concurrent writes share one log append (one fsync).
	rc.BatchApplyCh = true
	// The state machine keeps its applied index, so a restart after a
	// clean stop does not reload it from a snapshot (start-up cost
	// independent of data size); after an unclean stop it was wiped and
	// raft restores the latest snapshot, then replays the log.
	rc.NoSnapshotRestoreOnStart = b.fsmTrusted
	rc.SnapshotThreshold = 8192
	if b.cfg.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = b.cfg.SnapshotThreshold
	}
	if b.cfg.TrailingLogs > 0 {
		rc.TrailingLogs = b.cfg.TrailingLogs
	}
	t := b.cfg.Timing
	setIf := func(dst *time.Duration, v time.Duration) {
		if v > 0 {
			*dst = v
		}
	}
	setIf(&rc.HeartbeatTimeout, t.HeartbeatTimeout)
	setIf(&rc.ElectionTimeout, t.ElectionTimeout)
	setIf(&rc.LeaderLeaseTimeout, t.LeaderLeaseTimeout)
	setIf(&rc.CommitTimeout, t.CommitTimeout)
	return rc
}

// hclog adapts the slog logger for hashicorp's libraries (warnings and up:
// raft's info level is chatty).
func (b *Backend) hclog(name string) hclog.Logger {
	out := io.Discard
	if b.cfg.Logger != nil {
		out = slogWriter{l: b.cfg.Logger, name: name}
	}
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.Warn, Output: out, DisableTime: true})
}

// slogWriter forwards hclog's formatted lines to slog.
type slogWriter struct {
	l    *slog.Logger
	name string
}

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Warn("raft: "+string(trimNewline(p)), "component", w.name)
	return len(p), nil
}

func trimNewline(p []byte) []byte {
	for len(p) > 0 && (p[len(p)-1] == '\n' || p[len(p)-1] == '\r') {
		p = p[:len(p)-1]
	}
	return p
}

// countingLogs counts log appends, to report writes per fsync.
type countingLogs struct {
	hraft.LogStore
	appends, entries atomic.Uint64
}

func (c *countingLogs) StoreLogs(logs []*hraft.Log) error {
	c.appends.Add(1)
	c.entries.Add(uint64(len(logs)))
	return c.LogStore.StoreLogs(logs)
}

func (c *countingLogs) StoreLog(l *hraft.Log) error { return c.StoreLogs([]*hraft.Log{l}) }

// IsMonotonic passes on raft-wal's answer: raft must then drop old logs
// after restoring a user snapshot instead of leaving a gap in the indexes.
func (c *countingLogs) IsMonotonic() bool {
	m, ok := c.LogStore.(hraft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

// Close stops the node and releases its files. The cluster carries on
// without it. Calling it again returns the first call's result.
func (b *Backend) Close() error {
	b.closeOnce.Do(func() { b.closeErr = b.close() })
	return b.closeErr
}

func (b *Backend) close() error {
	err := b.raft.Shutdown().Error()
	b.leaders.close()
	b.stop()
	b.rpc.CloseIdleConnections()
	if terr := b.transport.Close(); err == nil {
		err = terr
	}
	_ = b.port.close()
	b.closeStoresClean(err == nil)
	return err
}

// ctxErr turns a cancelled context into its error before a raft call.
func ctxErr(ctx context.Context) error { return ctx.Err() }
