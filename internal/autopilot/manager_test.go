package autopilot

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	vaultapi "github.com/hashicorp/vault/api"
	"github.com/mitchellh/mapstructure"
)

// TestDeadServerCleanup stops one of four voters and moves the clock past
// dead_server_last_contact_threshold: the server is removed only when
// cleanup is on and min_quorum voters remain.
func TestDeadServerCleanup(t *testing.T) {
	tests := []struct {
		name        string
		cleanup     bool
		minQuorum   uint
		wantRemoved bool
	}{
		{"removed when cleanup is on and min_quorum allows", true, 3, true},
		{"kept when cleanup is off", false, 0, false},
		{"kept when removal would go below min_quorum", true, 4, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t, 4, 0)
			cfg := DefaultConfig()
			cfg.CleanupDeadServers, cfg.MinQuorum = tt.cleanup, tt.minQuorum
			m, rr, tc := c.startManager(cfg)
			waitHealthy(t, m, 4)

			dead := c.nodes[3].id
			c.stop(3)
			// Past the contact threshold but well short of the dead one: the
			// server is unhealthy, alive, and stays.
			c.clock.Advance(time.Minute)
			waitFor(t, "the stopped server to turn unhealthy", func() bool {
				s := m.State().Servers[string(dead)]
				return !s.Healthy
			})
			tc.rounds(t, 20)
			if s := m.State().Servers[string(dead)]; s.NodeStatus != "alive" {
				t.Fatalf("before the dead threshold node_status = %q, want alive", s.NodeStatus)
			}
			if _, ok := c.suffrage(dead); !ok {
				t.Fatal("server removed before the dead-server threshold")
			}

			c.clock.Advance(cfg.DeadServerLastContactThreshold)
			if tt.wantRemoved {
				waitFor(t, "the dead server to leave the configuration", func() bool {
					_, ok := c.suffrage(dead)
					return !ok
				})
				if ev := rr.Events(); !only(ev, "remove", dead) {
					t.Errorf("raft changes = %+v, want removals of %s only", ev, dead)
				}
				for _, n := range c.nodes[:3] {
					if _, ok := c.suffrage(n.id); !ok {
						t.Errorf("live server %s was removed", n.id)
					}
				}
				return
			}
			waitFor(t, "the stopped server to count as failed", func() bool {
				return m.State().Servers[string(dead)].NodeStatus == "failed"
			})
			tc.rounds(t, 30)
			if _, ok := c.suffrage(dead); !ok {
				t.Fatal("dead server removed")
			}
			if ev := rr.Events(); len(ev) != 0 {
				t.Fatalf("raft changes = %+v, want none", ev)
			}
			if !tt.cleanup {
				// The configuration is read at every round: turning cleanup
				// on removes the server without a restart.
				tc.mu.Lock()
				tc.c.CleanupDeadServers, tc.c.MinQuorum = true, 3
				tc.mu.Unlock()
				waitFor(t, "the dead server to leave once cleanup is on", func() bool {
					_, ok := c.suffrage(dead)
					return !ok
				})
			}
		})
	}
}

// TestStabilization adds a non-voter: it is promoted only once it has been
// healthy for server_stabilization_time.
func TestStabilization(t *testing.T) {
	c := newCluster(t, 3, 1)
	cfg := DefaultConfig()
	cfg.ServerStabilizationTime = time.Hour
	m, rr, tc := c.startManager(cfg)
	waitHealthy(t, m, 3)

	joiner := c.nodes[3]
	if err := m.AddServer(string(joiner.id), string(joiner.addr)); err != nil {
		t.Fatalf("AddServer: %v", err)
	}
	if s, ok := c.suffrage(joiner.id); !ok || s != raft.Nonvoter {
		t.Fatalf("after AddServer suffrage = %v (present %v), want non-voter", s, ok)
	}
	st := waitHealthy(t, m, 4)
	js := st.Servers[string(joiner.id)]
	if js.Status != StatusNonVoter || !slices.Equal(st.NonVoters, []string{string(joiner.id)}) {
		t.Fatalf("joiner status %q, non_voters %v; want a non-voter", js.Status, st.NonVoters)
	}
	healthySince := js.StableSince

	tc.rounds(t, 20)
	if s, _ := c.suffrage(joiner.id); s != raft.Nonvoter {
		t.Fatalf("joiner promoted before server_stabilization_time (suffrage %v)", s)
	}
	if ev := rr.Events(); len(ev) != 0 {
		t.Fatalf("raft changes before stabilization = %+v, want none", ev)
	}

	c.clock.Advance(cfg.ServerStabilizationTime)
	waitFor(t, "the joiner to become a voter", func() bool {
		s, _ := c.suffrage(joiner.id)
		return s == raft.Voter
	})
	ev := rr.Events()
	if !only(ev, "add-voter", joiner.id) {
		t.Fatalf("raft changes = %+v, want promotions of %s only", ev, joiner.id)
	}
	if stable := ev[0].at.Sub(healthySince); stable < cfg.ServerStabilizationTime {
		t.Errorf("promoted after %v healthy, want at least %v", stable, cfg.ServerStabilizationTime)
	}
	waitFor(t, "the state to list four voters", func() bool { return len(m.State().Voters) == 4 })
}

// TestState checks healthy and failure_tolerance for three healthy voters
// and after one stops, and that the official client decodes the response.
func TestState(t *testing.T) {
	c := newCluster(t, 3, 0)
	m, _, _ := c.startManager(DefaultConfig())

	st := waitHealthy(t, m, 3)
	if !st.Healthy || st.FailureTolerance != 1 {
		t.Errorf("3 healthy voters: healthy %v, failure_tolerance %d; want true, 1", st.Healthy, st.FailureTolerance)
	}
	if st.Leader != "node0" || len(st.Voters) != 3 || st.Voters[0] != "node0" || len(st.NonVoters) != 0 {
		t.Errorf("leader %q voters %v non_voters %v; want node0 first of 3 voters", st.Leader, st.Voters, st.NonVoters)
	}
	for id, s := range st.Servers {
		wantStatus := StatusVoter
		if id == "node0" {
			wantStatus = StatusLeader
		}
		if s.Status != wantStatus || s.NodeStatus != "alive" || s.ID != id || s.Address == "" || s.Version != "test" {
			t.Errorf("server %s = %+v", id, s)
		}
	}
	client := decodeState(t, st)
	if !client.Healthy || client.FailureTolerance != 1 || client.Leader != "node0" ||
		len(client.Servers) != 3 || client.Servers["node1"].Status != "voter" ||
		client.Servers["node1"].StableSince == "" {
		t.Errorf("client decoded %+v", client)
	}

	c.stop(2)
	c.clock.Advance(time.Minute) // past last_contact_threshold, short of dead
	waitFor(t, "the stopped server to turn unhealthy", func() bool { return !m.State().Servers["node2"].Healthy })
	st = m.State()
	if st.Healthy || st.FailureTolerance != 0 {
		t.Errorf("one of 3 voters down: healthy %v, failure_tolerance %d; want false, 0", st.Healthy, st.FailureTolerance)
	}
	if s := st.Servers["node2"]; s.NodeStatus != "alive" || s.Status != StatusVoter || s.LastContact < time.Minute {
		t.Errorf("stopped server = %+v; want an alive voter out of contact for a minute", s)
	}
}

// TestSelfReportedUnhealthy: a server that answers but reports itself
// unhealthy (sealed) is unhealthy, yet alive, so cleanup keeps it.
func TestSelfReportedUnhealthy(t *testing.T) {
	c := newCluster(t, 4, 0)
	cfg := DefaultConfig()
	cfg.CleanupDeadServers, cfg.MinQuorum = true, 3
	m, rr, tc := c.startManager(cfg)
	waitHealthy(t, m, 4)

	c.nodes[3].sealed.Store(true)
	waitFor(t, "the sealed server to turn unhealthy", func() bool { return !m.State().Servers["node3"].Healthy })
	c.clock.Advance(2 * cfg.DeadServerLastContactThreshold)
	tc.rounds(t, 30)
	st := m.State()
	s := st.Servers["node3"]
	if s.NodeStatus != "alive" || s.Healthy || s.LastContact < 0 {
		t.Errorf("sealed server = %+v; want alive, unhealthy, a real last contact", s)
	}
	if st.Healthy || st.FailureTolerance != 0 {
		t.Errorf("healthy %v, failure_tolerance %d; want false, 0 (3 healthy of 4 voters)", st.Healthy, st.FailureTolerance)
	}
	if ev := rr.Events(); len(ev) != 0 {
		t.Errorf("raft changes = %+v, want none", ev)
	}

	c.nodes[3].sealed.Store(false)
	waitHealthy(t, m, 4)
}

// TestStartStop restarts the manager: State is empty while stopped and
// fills again after Start.
func TestStartStop(t *testing.T) {
	c := newCluster(t, 3, 0)
	m, _, _ := c.startManager(DefaultConfig())
	waitHealthy(t, m, 3)
	m.Stop()
	if st := m.State(); st.Healthy || len(st.Servers) != 0 {
		t.Errorf("stopped manager state = %+v, want empty", st)
	}
	m.Start(t.Context())
	waitHealthy(t, m, 3)
}

// only reports whether events is not empty and every event is op on id
// (a request is retried if raft's leadership blips under load).
func only(events []event, op string, id raft.ServerID) bool {
	for _, e := range events {
		if e.op != op || e.id != id {
			return false
		}
	}
	return len(events) > 0
}

func decodeState(t *testing.T, st State) vaultapi.AutopilotState {
	t.Helper()
	b, err := json.Marshal(st.Map())
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		t.Fatal(err)
	}
	var out vaultapi.AutopilotState
	if err := mapstructure.Decode(data, &out); err != nil {
		t.Fatalf("client decoding %s: %v", b, err)
	}
	return out
}
