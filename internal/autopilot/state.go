package autopilot

import (
	"sort"
	"time"

	ap "github.com/hashicorp/raft-autopilot"
)

// Server statuses (State.Servers[id].Status), as Vault reports them.
const (
	StatusLeader   = "leader"
	StatusVoter    = "voter"
	StatusNonVoter = "non-voter"
)

// State is the cluster as autopilot last saw it, in the shape of Vault's
// sys/storage/raft/autopilot/state response (Map gives the response data).
type State struct {
	// Healthy is true when every server in the raft configuration is
	// healthy.
	Healthy bool
	// FailureTolerance is how many healthy voters can fail without the
	// cluster losing its quorum.
	FailureTolerance int
	// Leader is the leader's server ID.
	Leader string
	// Voters lists the voters, leader first; NonVoters the others, sorted.
	Voters, NonVoters []string
	// Servers holds every server of the raft configuration by ID.
	Servers map[string]ServerState
}

// ServerState is one server of State.
type ServerState struct {
	ID, Name, Address string
	// NodeStatus is "alive", or "failed" once the server has not answered
	// for dead_server_last_contact_threshold.
	NodeStatus string
	// LastContact is the time since the server's last contact with the
	// leader, as the server reported it (or since it last answered, when it
	// does not answer).
	LastContact         time.Duration
	LastTerm, LastIndex uint64
	// Healthy: alive, in recent contact, on the leader's term and within
	// max_trailing_logs of the leader's log, and reporting itself healthy.
	Healthy bool
	// StableSince is when Healthy last changed.
	StableSince time.Time
	// Status is StatusLeader, StatusVoter or StatusNonVoter.
	Status string
	// NodeType is what the server is meant to become ("voter").
	NodeType string
	Version  string
}

// Map renders s as the response data of Vault's
// sys/storage/raft/autopilot/state: durations as Go duration strings, times
// as RFC 3339.
func (s State) Map() map[string]any {
	servers := make(map[string]any, len(s.Servers))
	for id, srv := range s.Servers {
		servers[id] = srv.Map()
	}
	return map[string]any{
		"healthy":           s.Healthy,
		"failure_tolerance": s.FailureTolerance,
		"leader":            s.Leader,
		"voters":            orEmpty(s.Voters),
		"non_voters":        orEmpty(s.NonVoters),
		"servers":           servers,
	}
}

// Map renders one server as in Vault's state response.
func (s ServerState) Map() map[string]any {
	stable := ""
	if !s.StableSince.IsZero() {
		stable = s.StableSince.Format(time.RFC3339Nano)
	}
	return map[string]any{
		"id":           s.ID,
		"name":         s.Name,
		"address":      s.Address,
		"node_status":  s.NodeStatus,
		"last_contact": s.LastContact.String(),
		"last_term":    s.LastTerm,
		"last_index":   s.LastIndex,
		"healthy":      s.Healthy,
		"stable_since": stable,
		"status":       s.Status,
		"node_type":    s.NodeType,
		"version":      s.Version,
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// render converts the library's state. reports holds what each server last
// reported itself (the library only sees a negative LastContact for a
// server that reported itself unhealthy, see fetchStats).
func render(st *ap.State, reports map[string]NodeStats) State {
	out := State{Servers: map[string]ServerState{}}
	if st == nil {
		return out
	}
	out.Healthy = st.Healthy && len(st.Servers) > 0
	out.FailureTolerance = st.FailureTolerance
	out.Leader = string(st.Leader)
	for _, id := range st.Voters {
		out.Voters = append(out.Voters, string(id))
	}
	for id, srv := range st.Servers {
		ss := ServerState{
			ID: string(id), Name: srv.Server.Name, Address: string(srv.Server.Address),
			NodeStatus:  string(srv.Server.NodeStatus),
			LastContact: srv.Stats.LastContact, LastTerm: srv.Stats.LastTerm, LastIndex: srv.Stats.LastIndex,
			Healthy: srv.Health.Healthy, StableSince: srv.Health.StableSince,
			Status: status(srv.State), NodeType: string(srv.Server.NodeType), Version: srv.Server.Version,
		}
		if ss.Name == "" {
			ss.Name = ss.ID
		}
		if r, ok := reports[ss.ID]; ok {
			if ss.LastContact < 0 {
				ss.LastContact = r.LastContact
			}
			if r.Version != "" {
				ss.Version = r.Version
			}
		}
		if ss.Status == StatusNonVoter {
			out.NonVoters = append(out.NonVoters, ss.ID)
		}
		out.Servers[ss.ID] = ss
	}
	sort.Strings(out.NonVoters)
	return out
}

// status maps the library's raft state to Vault's status words; a server
// being staged is not a voter yet.
func status(s ap.RaftState) string {
	switch s {
	case ap.RaftLeader:
		return StatusLeader
	case ap.RaftVoter:
		return StatusVoter
	}
	return StatusNonVoter
}
