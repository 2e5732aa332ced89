package autopilot

import (
	"context"
	"strconv"
	"sync"

	"github.com/hashicorp/raft"
	ap "github.com/hashicorp/raft-autopilot"
)

// delegate is the Manager's side of the library (its
// ApplicationIntegration): configuration, the servers and their liveness,
// their stats, and removal of dead ones.
type delegate struct{ m *Manager }

var _ ap.ApplicationIntegration = (*delegate)(nil)

// AutopilotConfig implements ap.ApplicationIntegration.
func (d *delegate) AutopilotConfig() *ap.Config {
	c := d.m.config()
	return &ap.Config{
		CleanupDeadServers:      c.CleanupDeadServers,
		LastContactThreshold:    c.LastContactThreshold,
		MaxTrailingLogs:         c.MaxTrailingLogs,
		MinQuorum:               c.MinQuorum,
		ServerStabilizationTime: c.ServerStabilizationTime,
	}
}

// NotifyState implements ap.ApplicationIntegration: it logs changes of the
// cluster's health.
func (d *delegate) NotifyState(st *ap.State) {
	m := d.m
	m.mu.Lock()
	changed := m.healthy == nil || *m.healthy != st.Healthy
	h := st.Healthy
	m.healthy = &h
	m.mu.Unlock()
	if changed {
		m.log.Info("autopilot: cluster health changed", "healthy", st.Healthy,
			"failure_tolerance", st.FailureTolerance)
	}
}

// KnownServers implements ap.ApplicationIntegration. Every server of the raft
// configuration is known: the library removes servers it does not know
// without any threshold. A server is failed once its last stats request
// failed and it has not answered for dead_server_last_contact_threshold.
func (d *delegate) KnownServers() map[raft.ServerID]*ap.Server {
	m := d.m
	f := m.opts.Raft.GetConfiguration()
	if err := f.Error(); err != nil {
		m.log.Warn("autopilot: read raft configuration", "err", err)
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.known
	}
	leader := m.opts.Raft.Leader()
	local := m.opts.Raft.State() == raft.Leader
	now := m.opts.Now()
	dead := m.config().DeadServerLastContactThreshold

	m.mu.Lock()
	defer m.mu.Unlock()
	servers := f.Configuration().Servers
	known := make(map[raft.ServerID]*ap.Server, len(servers))
	nodes := make(map[raft.ServerID]*node, len(servers))
	for _, s := range servers {
		n := m.nodes[s.ID]
		if n == nil {
			n = &node{lastSeen: now}
		}
		nodes[s.ID] = n
		srv := &ap.Server{ID: s.ID, Name: string(s.ID), Address: s.Address,
			NodeStatus: ap.NodeAlive, RaftVersion: raft.ProtocolVersionMax,
			NodeType: ap.NodeVoter, Version: n.report.Version, IsLeader: s.Address == leader}
		if srv.IsLeader && local {
			srv.Version = m.opts.Version
			n.lastSeen, n.failing = now, false
		} else if n.failing && now.Sub(n.lastSeen) > dead {
			srv.NodeStatus = ap.NodeFailed
		}
		if s.Suffrage == raft.Nonvoter && m.opts.NonVoter != nil && m.opts.NonVoter(string(s.ID)) {
			srv.Meta = map[string]string{metaNonVoter: "true"}
		}
		known[s.ID] = srv
	}
	m.nodes, m.known = nodes, known
	return known
}

// FetchServerStats implements ap.ApplicationIntegration: this node's own
// stats come from raft when it leads, the others' from Options.Stats,
// concurrently.
func (d *delegate) FetchServerStats(ctx context.Context, servers map[raft.ServerID]*ap.Server) map[raft.ServerID]*ap.ServerStats {
	out := make(map[raft.ServerID]*ap.ServerStats, len(servers))
	local := d.m.opts.Raft.State() == raft.Leader
	var mu sync.Mutex
	var wg sync.WaitGroup
	for id, srv := range servers {
		if srv.IsLeader && local {
			st := d.localStats()
			mu.Lock()
			out[id] = st
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := d.remoteStats(ctx, srv)
			mu.Lock()
			out[id] = st
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// localStats are the leader's: in contact with itself, at its last entry.
func (d *delegate) localStats() *ap.ServerStats {
	r := d.m.opts.Raft
	term, _ := strconv.ParseUint(r.Stats()["last_log_term"], 10, 64)
	return &ap.ServerStats{LastTerm: term, LastIndex: r.LastIndex()}
}

// remoteStats asks one server. A server that does not answer is reported
// with the time since it last did as its last contact, so it turns
// unhealthy after last_contact_threshold; one that reports itself unhealthy
// gets a negative last contact, which the library counts as unhealthy.
func (d *delegate) remoteStats(ctx context.Context, srv *ap.Server) *ap.ServerStats {
	m := d.m
	ns, err := m.opts.Stats(ctx, string(srv.ID), string(srv.Address))
	now := m.opts.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.nodes[srv.ID]
	if n == nil {
		n = &node{lastSeen: now}
		m.nodes[srv.ID] = n
	}
	n.failing = err != nil
	if err != nil {
		m.log.Debug("autopilot: server stats", "id", srv.ID, "err", err)
		return &ap.ServerStats{LastContact: now.Sub(n.lastSeen),
			LastTerm: n.report.LastTerm, LastIndex: n.report.LastIndex}
	}
	n.lastSeen, n.report, n.reported = now, ns, true
	st := &ap.ServerStats{LastContact: ns.LastContact, LastTerm: ns.LastTerm, LastIndex: ns.LastIndex}
	if !ns.Healthy {
		st.LastContact = -1
	}
	return st
}

// RemoveFailedServer implements ap.ApplicationIntegration. The library calls
// it only for failed servers whose removal keeps min_quorum voters; the
// removal runs in the background (it waits for a raft commit).
func (d *delegate) RemoveFailedServer(srv *ap.Server) {
	m := d.m
	m.mu.Lock()
	if m.removing[srv.ID] {
		m.mu.Unlock()
		return
	}
	m.removing[srv.ID] = true
	m.removals.Add(1)
	m.mu.Unlock()

	m.log.Warn("autopilot: removing dead server", "id", srv.ID, "address", srv.Address)
	go func() {
		defer m.removals.Done()
		err := m.opts.Raft.RemoveServer(srv.ID, 0, 0).Error()
		m.mu.Lock()
		delete(m.removing, srv.ID)
		if err == nil {
			delete(m.nodes, srv.ID)
		}
		m.mu.Unlock()
		if err != nil {
			m.log.Error("autopilot: remove dead server", "id", srv.ID, "err", err)
			return
		}
		m.log.Info("autopilot: removed dead server", "id", srv.ID)
	}()
}
