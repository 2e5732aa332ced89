package autopilot

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	ap "github.com/hashicorp/raft-autopilot"
)

func TestRender(t *testing.T) {
	stable := time.Date(2026, 11, 24, 4, 0, 0, 0, time.UTC)
	lib := &ap.State{
		Healthy: true, FailureTolerance: 0, Leader: "a", Voters: []raft.ServerID{"a"},
		Servers: map[raft.ServerID]*ap.ServerState{
			"a": {Server: ap.Server{ID: "a", Name: "a", Address: "10.0.0.1:8201", NodeStatus: ap.NodeAlive, Version: "1"},
				State: ap.RaftLeader, Health: ap.ServerHealth{Healthy: true, StableSince: stable}},
			"c": {Server: ap.Server{ID: "c", Address: "10.0.0.3:8201", NodeStatus: ap.NodeAlive},
				State: ap.RaftStaging, Stats: ap.ServerStats{LastContact: -1, LastTerm: 2, LastIndex: 9}},
			"b": {Server: ap.Server{ID: "b", Address: "10.0.0.2:8201", NodeStatus: ap.NodeFailed},
				State: ap.RaftNonVoter, Stats: ap.ServerStats{LastContact: 3 * time.Second}},
		},
	}
	reports := map[string]NodeStats{"c": {LastContact: 40 * time.Millisecond, Version: "2"}}
	tests := []struct {
		name  string
		in    *ap.State
		check func(t *testing.T, st State, m map[string]any)
	}{
		{"no state", nil, func(t *testing.T, st State, m map[string]any) {
			if st.Healthy || len(st.Servers) != 0 {
				t.Errorf("state = %+v, want empty and unhealthy", st)
			}
			b, _ := json.Marshal(m)
			if string(b) != `{"failure_tolerance":0,"healthy":false,"leader":"","non_voters":[],"servers":{},"voters":[]}` {
				t.Errorf("map = %s", b)
			}
		}},
		{"servers", lib, func(t *testing.T, st State, m map[string]any) {
			if !st.Healthy || st.Leader != "a" || len(st.Voters) != 1 {
				t.Errorf("state = %+v", st)
			}
			if len(st.NonVoters) != 2 || st.NonVoters[0] != "b" || st.NonVoters[1] != "c" {
				t.Errorf("non_voters = %v, want [b c] (staging counts as non-voter)", st.NonVoters)
			}
			c := st.Servers["c"]
			if c.Name != "c" || c.LastContact != 40*time.Millisecond || c.Version != "2" || c.Status != StatusNonVoter {
				t.Errorf("server c = %+v; want name c, reported last contact and version", c)
			}
			a := st.Servers["a"].Map()
			if a["status"] != "leader" || a["stable_since"] != "2026-11-24T04:00:00Z" || a["last_contact"] != "0s" {
				t.Errorf("server a map = %v", a)
			}
			if b := st.Servers["b"].Map(); b["node_status"] != "failed" || b["stable_since"] != "" || b["last_contact"] != "3s" {
				t.Errorf("server b map = %v", b)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := render(tt.in, reports)
			tt.check(t, st, st.Map())
		})
	}
}
