// Package autopilot is dead-server cleanup and server stabilisation for the
// raft cluster, on github.com/hashicorp/raft-autopilot.
//
// A Manager runs on the active node (the raft leader) only: it keeps a view
// of every server's health from the stats each one reports over the cluster
// port, promotes new non-voters to voters once they have been healthy for
// server_stabilization_time, and, when cleanup_dead_servers is on, removes
// servers that have not answered for dead_server_last_contact_threshold as
// long as min_quorum voters remain.
//
// Wiring on the active node: New with the node's *raft.Raft and a Stats
// function that asks a server over the cluster port; Start when the node
// becomes active and Stop when it stops; AddServer (not raft's AddVoter) for
// a joining server; State for sys/storage/raft/autopilot/state; LoadConfig,
// ParseConfig and SaveConfig for sys/storage/raft/autopilot/configuration.
package autopilot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	ap "github.com/hashicorp/raft-autopilot"
)

// Library defaults for Options.UpdateInterval and Options.ReconcileInterval.
const (
	DefaultUpdateInterval    = ap.DefaultUpdateInterval
	DefaultReconcileInterval = ap.DefaultReconcileInterval
)

// NodeStats is what a server reports about itself.
type NodeStats struct {
	// LastContact is the time since the server last heard from the leader.
	LastContact time.Duration
	// LastTerm and LastIndex are the term and index of its last log entry.
	LastTerm, LastIndex uint64
	// Healthy is the server's own view: false when it is sealed or otherwise
	// cannot serve. Such a server counts as unhealthy (it is not promoted and
	// not counted in the failure tolerance) but as alive (it answered, so it
	// is not removed as dead).
	Healthy bool
	// Version is the server's Coffer version, shown in the state.
	Version string
}

// Options configures a Manager. Raft, Stats and Config are required.
type Options struct {
	// Raft is this node's raft (*raft.Raft satisfies it).
	Raft ap.Raft
	// Stats asks server id at its raft address addr for its NodeStats (an
	// RPC over the cluster port). It is called concurrently for every server
	// but the leader, whose stats come from Raft, with a context that ends
	// within half of UpdateInterval. An error means no contact.
	Stats func(ctx context.Context, id, addr string) (NodeStats, error)
	// Config returns the current configuration (read at every round, so a
	// change through the API applies without a restart). Zero fields take
	// DefaultConfig's values.
	Config func() Config
	// Logger receives promotions, removals and health changes; nil discards.
	Logger *slog.Logger
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Version is this node's Coffer version, shown in the state.
	Version string
	// NonVoter reports a server that joined as a permanent non-voter, which
	// is never promoted; nil means none did.
	NonVoter func(id string) bool
	// UpdateInterval is the time between health checks and
	// ReconcileInterval between promotion and cleanup rounds (2s and 10s if
	// zero, as in Vault).
	UpdateInterval, ReconcileInterval time.Duration
}

// Manager runs autopilot for one node. Its methods are safe for concurrent
// use.
type Manager struct {
	opts Options
	log  *slog.Logger

	lifecycle sync.Mutex // serialises Start and Stop

	mu       sync.Mutex
	pilot    *ap.Autopilot           // nil when not running
	nodes    map[raft.ServerID]*node // liveness per server, reset by Start
	known    map[raft.ServerID]*ap.Server
	removing map[raft.ServerID]bool
	healthy  *bool // last logged cluster health
	removals sync.WaitGroup
}

// node is what the manager tracks about one server.
type node struct {
	lastSeen time.Time // last successful Stats call (or first sighting)
	failing  bool      // the last Stats call failed
	report   NodeStats
	reported bool
}

// ErrNotRunning is returned by AddServer when the Manager is not started.
var ErrNotRunning = errors.New("autopilot: not running")

// New builds a Manager; it does nothing until Start.
func New(opts Options) *Manager {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{opts: opts, log: log, nodes: map[raft.ServerID]*node{},
		removing: map[raft.ServerID]bool{}}
}

// Start begins health checks, promotions and cleanup. Call it when this node
// becomes the active node; starting a running Manager does nothing. Each
// Start begins afresh: every server counts as just seen (after a leadership
// change a server is declared dead only after the full threshold under the
// new leader) and has to prove its stability again.
func (m *Manager) Start(ctx context.Context) {
	m.lifecycle.Lock()
	defer m.lifecycle.Unlock()
	m.mu.Lock()
	if m.pilot != nil {
		m.mu.Unlock()
		return
	}
	m.nodes = map[raft.ServerID]*node{}
	m.healthy = nil
	pilot := ap.New(m.opts.Raft, &delegate{m: m},
		ap.WithLogger(newHCLogger(m.log)),
		ap.WithTimeProvider(clock(m.opts.Now)),
		ap.WithPromoter(&promoter{now: m.opts.Now}),
		ap.WithUpdateInterval(m.opts.UpdateInterval),
		ap.WithReconcileInterval(m.opts.ReconcileInterval))
	m.pilot = pilot
	m.mu.Unlock()
	pilot.Start(ctx)
}

// Stop ends the background work and waits for it (and for any removal in
// flight) to finish. Call it when this node stops being the active node.
func (m *Manager) Stop() {
	m.lifecycle.Lock()
	defer m.lifecycle.Unlock()
	m.mu.Lock()
	pilot := m.pilot
	m.pilot = nil
	m.mu.Unlock()
	if pilot == nil {
		return
	}
	<-pilot.Stop()
	m.removals.Wait()
}

// State returns the cluster as last seen. Before the first health check, or
// when the Manager is not running, it has no servers and is not healthy.
func (m *Manager) State() State {
	m.mu.Lock()
	pilot := m.pilot
	reports := make(map[string]NodeStats, len(m.nodes))
	for id, n := range m.nodes {
		if n.reported {
			reports[string(id)] = n.report
		}
	}
	m.mu.Unlock()
	if pilot == nil {
		return render(nil, nil)
	}
	return render(pilot.GetState(), reports)
}

// AddServer adds a joining server to raft as a non-voter (or updates its
// address); autopilot promotes it once it has been healthy for
// server_stabilization_time. Another server with the same address is removed
// first, unless that would cost the cluster its quorum.
func (m *Manager) AddServer(id, addr string) error {
	if id == "" || addr == "" {
		return fmt.Errorf("autopilot: add server: id and address are required")
	}
	m.mu.Lock()
	pilot := m.pilot
	m.mu.Unlock()
	if pilot == nil {
		return ErrNotRunning
	}
	err := pilot.AddServer(&ap.Server{ID: raft.ServerID(id), Name: id,
		Address: raft.ServerAddress(addr), NodeType: ap.NodeVoter})
	if err != nil {
		return fmt.Errorf("autopilot: add server %q: %w", id, err)
	}
	return nil
}

// config returns the current configuration with defaults filled in.
func (m *Manager) config() Config { return m.opts.Config().withDefaults() }

// clock adapts a func to the library's TimeProvider.
type clock func() time.Time

func (c clock) Now() time.Time { return c() }
