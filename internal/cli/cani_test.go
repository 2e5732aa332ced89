package cli

import (
	"slices"
	"strings"
	"testing"
)

func TestCanI(t *testing.T) {
	allowed := `{"data":{"allowed":true,"capabilities":["read"],"decided_by":{"policy":"app","rule":"secret/data/*"},"reason":"rule \"secret/data/*\" grants read","policies":["app","default"],"unknown_policies":[]}}`
	denied := `{"data":{"allowed":false,"capabilities":["deny"],"decided_by":{"policy":"","rule":""},"reason":"no policy has a rule matching \"kv/x\"","policies":["ghost"],"unknown_policies":["ghost"]}}`
	role := `{"data":{"token_policies":["web","ci"],"token_no_default_policy":false}}`
	roleNoDefault := `{"data":{"token_policies":["web"],"token_no_default_policy":true}}`
	tests := []struct {
		name    string
		routes  map[string]reply
		args    []string
		code    int
		stdout  []string
		stderr  string
		request string // the policy-check request the server must see
	}{
		{name: "self, yes", routes: map[string]reply{"PUT /v1/sys/policy-check": {body: allowed}},
			args: []string{"read", "/secret/data/app"}, code: 0,
			stdout:  []string{"yes\n", "policy:     app\n", "rule:       secret/data/*\n", "evaluated:  app, default\n"},
			request: `PUT /v1/sys/policy-check {"capability":"read","path":"secret/data/app"}`},
		{name: "token, no", routes: map[string]reply{"PUT /v1/sys/policy-check": {body: denied}},
			args: []string{"-token=hvs.other", "read", "kv/x"}, code: 1,
			stdout:  []string{"no\n", "policy:            (none)\n", "unknown policies:  ghost\n"},
			request: `PUT /v1/sys/policy-check {"capability":"read","path":"kv/x","token":"hvs.other"}`},
		{name: "entity", routes: map[string]reply{"PUT /v1/sys/policy-check": {body: allowed}},
			args: []string{"-entity", "ent-1", "read", "secret/data/app"}, code: 0,
			request: `PUT /v1/sys/policy-check {"capability":"read","entity_id":"ent-1","path":"secret/data/app"}`},
		{name: "role adds default", routes: map[string]reply{
			"GET /v1/auth/approle/role/web": {body: role}, "PUT /v1/sys/policy-check": {body: allowed}},
			args: []string{"-role=auth/approle/role/web", "read", "secret/data/app"}, code: 0,
			request: `PUT /v1/sys/policy-check {"capability":"read","path":"secret/data/app","policies":["web","ci","default"]}`},
		{name: "role without default", routes: map[string]reply{
			"GET /v1/auth/approle/role/web": {body: roleNoDefault}, "PUT /v1/sys/policy-check": {body: denied}},
			args: []string{"-role=/auth/approle/role/web/", "read", "kv/x"}, code: 1,
			request: `PUT /v1/sys/policy-check {"capability":"read","path":"kv/x","policies":["web"]}`},
		{name: "missing role", routes: map[string]reply{},
			args: []string{"-role=auth/approle/role/nope", "read", "x"}, code: 2, stderr: "no role found at auth/approle/role/nope"},
		{name: "json", routes: map[string]reply{"PUT /v1/sys/policy-check": {body: denied}},
			args: []string{"-format=json", "read", "kv/x"}, code: 1, stdout: []string{`"allowed": false`}},
		{name: "server error", routes: map[string]reply{"PUT /v1/sys/policy-check": {status: 403, body: `{"errors":["permission denied"]}`}},
			args: []string{"read", "x"}, code: 2, stderr: "403 permission denied"},
		{name: "two principals", args: []string{"-token=a", "-entity=b", "read", "x"}, code: 2, stderr: "give at most one of -token, -entity and -role"},
		{name: "one argument", args: []string{"read"}, code: 2, stderr: "not enough arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, srv := newFakeServer(t, tt.routes)
			res := runCLI(t, srv.URL, nil, "", append([]string{"can-i"}, tt.args...)...)
			if res.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", res.code, tt.code, res.stdout, res.stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(res.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, res.stdout)
				}
			}
			if !strings.Contains(res.stderr, tt.stderr) {
				t.Errorf("stderr = %q, want %q", res.stderr, tt.stderr)
			}
			if tt.request != "" && !slices.Contains(fs.requests(), tt.request) {
				t.Errorf("requests = %q, want one %q", fs.requests(), tt.request)
			}
		})
	}
}
