package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cliCase is one command line against the fake server.
type cliCase struct {
	name     string
	args     []string
	routes   map[string]reply
	want     []string // requests, in order
	stdout   string   // the whole stdout, when set
	wantCode int
	stderr   string // substring of stderr
}

// runCLICases runs each case against its own fake server.
func runCLICases(t *testing.T, tests []cliCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, srv := newFakeServer(t, tt.routes)
			res := runCLI(t, srv.URL, nil, "", tt.args...)
			if res.code != tt.wantCode {
				t.Fatalf("exit code %d, want %d; stderr: %s", res.code, tt.wantCode, res.stderr)
			}
			if got := fs.requests(); !slices.Equal(got, tt.want) {
				t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if tt.stdout != "" && res.stdout != tt.stdout {
				t.Errorf("stdout = %q, want %q", res.stdout, tt.stdout)
			}
			if !strings.Contains(res.stderr, tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.stderr)
			}
		})
	}
}

func TestRaftJoinRequests(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca, cert, key := write("ca.pem", "CA PEM\n"), write("c.pem", "CERT PEM\n"), write("k.pem", "KEY PEM\n")
	const joined = `{"joined":true}`
	joinRoute := map[string]reply{"POST /v1/sys/storage/raft/join": {body: joined}}
	runCLICases(t, []cliCase{
		{name: "join", args: []string{"operator", "raft", "join", "https://n1:8200"}, routes: joinRoute,
			want:   []string{`POST /v1/sys/storage/raft/join {"leader_api_addr":"https://n1:8200","retry":false}`},
			stdout: "Joined: true\n"},
		{name: "join with files and retry",
			args:   []string{"operator", "raft", "join", "-leader-ca-cert=" + ca, "--leader-client-cert", cert, "-leader-client-key=@" + key, "-retry", "https://n1:8200"},
			routes: joinRoute,
			want: []string{`POST /v1/sys/storage/raft/join {"leader_api_addr":"https://n1:8200","leader_ca_cert":"CA PEM\n",` +
				`"leader_client_cert":"CERT PEM\n","leader_client_key":"KEY PEM\n","retry":true}`},
			stdout: "Joined: true\n"},
		{name: "join as a non-voter", args: []string{"operator", "raft", "join", "-non-voter", "https://n1:8200"}, routes: joinRoute,
			want:   []string{`POST /v1/sys/storage/raft/join {"leader_api_addr":"https://n1:8200","non_voter":true,"retry":false}`},
			stdout: "Joined: true\n"},
		{name: "join json", args: []string{"operator", "raft", "join", "-format=json", "https://n1:8200"}, routes: joinRoute,
			want: []string{`POST /v1/sys/storage/raft/join {"leader_api_addr":"https://n1:8200","retry":false}`}},
		{name: "join not joined", args: []string{"operator", "raft", "join", "https://n1:8200"},
			routes: map[string]reply{"POST /v1/sys/storage/raft/join": {body: `{"joined":false}`}},
			want:   []string{`POST /v1/sys/storage/raft/join {"leader_api_addr":"https://n1:8200","retry":false}`},
			stdout: "Joined: false\n"},
		{name: "join refused", args: []string{"operator", "raft", "join", "https://n1:8200"},
			routes:   map[string]reply{"POST /v1/sys/storage/raft/join": {status: 400, body: `{"errors":["node is already part of a cluster"]}`}},
			want:     []string{`POST /v1/sys/storage/raft/join {"leader_api_addr":"https://n1:8200","retry":false}`},
			wantCode: 1, stderr: "already part of a cluster"},
		{name: "join without address", args: []string{"operator", "raft", "join"}, wantCode: 2, stderr: "not enough arguments"},
		{name: "join bad address", args: []string{"operator", "raft", "join", "n1:8200"}, wantCode: 2, stderr: "must start with http"},
		{name: "join half client cert", args: []string{"operator", "raft", "join", "-leader-client-cert=" + cert, "https://n1:8200"},
			wantCode: 2, stderr: "must be given together"},
		{name: "join missing file", args: []string{"operator", "raft", "join", "-leader-ca-cert=" + filepath.Join(dir, "none"), "https://n1:8200"},
			wantCode: 1, stderr: "leader_ca_cert"},
	})
}

func TestRaftAutopilotSetConfigRequests(t *testing.T) {
	configRoute := map[string]reply{"POST /v1/sys/storage/raft/autopilot/configuration": {status: 204}}
	runCLICases(t, []cliCase{
		{name: "set-config", args: []string{"operator", "raft", "autopilot", "set-config", "-cleanup-dead-servers=true",
			"-dead-server-last-contact-threshold=24h", "-last-contact-threshold=10s", "-max-trailing-logs=500",
			"-min-quorum=3", "-server-stabilization-time=30"}, routes: configRoute,
			want: []string{`POST /v1/sys/storage/raft/autopilot/configuration {"cleanup_dead_servers":true,` +
				`"dead_server_last_contact_threshold":"24h","last_contact_threshold":"10s","max_trailing_logs":500,` +
				`"min_quorum":3,"server_stabilization_time":"30"}`},
			stdout: "Success! Autopilot configuration updated.\n"},
		{name: "set-config only what is given", args: []string{"operator", "raft", "autopilot", "set-config", "-cleanup-dead-servers=false"},
			routes: configRoute, want: []string{`POST /v1/sys/storage/raft/autopilot/configuration {"cleanup_dead_servers":false}`}},
		{name: "set-config nothing", args: []string{"operator", "raft", "autopilot", "set-config"}, wantCode: 2, stderr: "no settings given"},
		{name: "set-config bad duration", args: []string{"operator", "raft", "autopilot", "set-config", "-last-contact-threshold=soon"},
			wantCode: 2, stderr: "invalid duration"},
		{name: "set-config negative quorum", args: []string{"operator", "raft", "autopilot", "set-config", "-min-quorum=-1"},
			wantCode: 2, stderr: "min-quorum"},
	})
}

const autopilotState = `{"request_id":"r","data":{"failure_tolerance":1,"healthy":true,"leader":"node-1",
"voters":["node-1","node-2","node-3"],
"servers":{
 "node-2":{"id":"node-2","name":"node-2","address":"10.0.0.2:8201","node_status":"alive","status":"voter","healthy":true,"last_contact":"512.3ms","last_index":459,"last_term":3},
 "node-1":{"id":"node-1","name":"node-1","address":"10.0.0.1:8201","node_status":"alive","status":"leader","healthy":true,"last_contact":"0s","last_index":459,"last_term":3},
 "node-3":{"id":"node-3","name":"node-3","address":"10.0.0.3:8201","node_status":"left","status":"voter","healthy":false,"last_contact":"1m2s","last_index":12,"last_term":2}
}}}`

const autopilotConfig = `{"data":{"cleanup_dead_servers":true,"dead_server_last_contact_threshold":"24h0m0s",
"last_contact_threshold":"10s","max_trailing_logs":1000,"min_quorum":3,"server_stabilization_time":"10s"}}`

func TestRaftAutopilotOutput(t *testing.T) {
	routes := map[string]reply{
		"GET /v1/sys/storage/raft/autopilot/state":         {body: autopilotState},
		"GET /v1/sys/storage/raft/autopilot/configuration": {body: autopilotConfig},
	}
	tests := []struct {
		name   string
		args   []string
		stdout string
	}{
		{"state", []string{"operator", "raft", "autopilot", "state"}, `Key                  Value
---                  -----
Healthy              true
Failure Tolerance    1
Leader               node-1
Voters               node-1, node-2, node-3

Server    Address          Status    Healthy    Last Contact    Last Index
------    -------          ------    -------    ------------    ----------
node-1    10.0.0.1:8201    leader    true       0s              459
node-2    10.0.0.2:8201    voter     true       512.3ms         459
node-3    10.0.0.3:8201    voter     false      1m2s            12
`},
		{"state field", []string{"operator", "raft", "autopilot", "state", "-field=leader"}, "node-1"},
		{"get-config", []string{"operator", "raft", "autopilot", "get-config"}, `Key                                   Value
---                                   -----
Cleanup Dead Servers                  true
Last Contact Threshold                10s
Dead Server Last Contact Threshold    24h0m0s
Server Stabilization Time             10s
Min Quorum                            3
Max Trailing Logs                     1000
`},
		{"get-config field", []string{"operator", "raft", "autopilot", "get-config", "-field=min_quorum"}, "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newFakeServer(t, routes)
			res := runCLI(t, srv.URL, nil, "", tt.args...)
			if res.code != 0 {
				t.Fatalf("exit code %d: %s", res.code, res.stderr)
			}
			if res.stdout != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, tt.stdout)
			}
		})
	}
}

func TestRaftAutopilotStateJSONAndErrors(t *testing.T) {
	_, srv := newFakeServer(t, map[string]reply{"GET /v1/sys/storage/raft/autopilot/state": {body: autopilotState}})
	res := runCLI(t, srv.URL, nil, "", "operator", "raft", "autopilot", "state", "-format=json")
	if res.code != 0 || !strings.Contains(res.stdout, `"failure_tolerance": 1`) || !strings.Contains(res.stdout, `"last_contact": "512.3ms"`) {
		t.Errorf("json state: code %d, stdout:\n%s", res.code, res.stdout)
	}
	_, empty := newFakeServer(t, nil)
	if res := runCLI(t, empty.URL, nil, "", "operator", "raft", "autopilot", "state"); res.code != 1 {
		t.Errorf("state against a server without autopilot: exit %d, want 1", res.code)
	}
}

func TestRaftCommandsHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"operator", "raft", "join", "--help"}, []string{"LEADER_API_ADDR", "-leader-ca-cert", "-leader-client-cert", "-leader-client-key", "-retry", "unseal"}},
		{[]string{"operator", "raft", "autopilot", "--help"}, []string{"state", "get-config", "set-config"}},
		{[]string{"operator", "raft", "autopilot", "state", "--help"}, []string{"failure tolerance", "Example"}},
		{[]string{"operator", "raft", "autopilot", "get-config", "--help"}, []string{"configuration"}},
		{[]string{"operator", "raft", "autopilot", "set-config", "--help"}, []string{"-cleanup-dead-servers", "-dead-server-last-contact-threshold",
			"-last-contact-threshold", "-max-trailing-logs", "-min-quorum", "-server-stabilization-time"}},
		{[]string{"operator", "raft", "--help"}, []string{"join", "autopilot"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := runCLI(t, "http://127.0.0.1:1", nil, "", tt.args...)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("help lacks %q:\n%s", w, res.stdout)
				}
			}
		})
	}
}
