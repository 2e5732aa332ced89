package cli

import (
	"slices"
	"strings"
	"testing"
)

func TestLeaseCommands(t *testing.T) {
	const id = "database/creds/ro/ABC"
	tests := []struct {
		name    string
		args    []string
		routes  map[string]reply
		want    []string
		stdout  string
		wantErr bool
	}{
		{name: "lookup", args: []string{"lease", "lookup", id},
			routes: map[string]reply{"PUT /v1/sys/leases/lookup": {body: `{"data":{"id":"` + id + `","ttl":60,"renewable":true}}`}},
			want:   []string{`PUT /v1/sys/leases/lookup {"lease_id":"` + id + `"}`}, stdout: id},
		{name: "renew", args: []string{"lease", "renew", "-increment=1h", id},
			routes: map[string]reply{"PUT /v1/sys/leases/renew": {body: `{"lease_id":"` + id + `","lease_duration":3600,"renewable":true}`}},
			want:   []string{`PUT /v1/sys/leases/renew {"increment":"1h","lease_id":"` + id + `"}`}, stdout: "lease_duration"},
		{name: "revoke queued", args: []string{"lease", "revoke", id},
			routes: map[string]reply{"PUT /v1/sys/leases/revoke": {status: 204}},
			want:   []string{`PUT /v1/sys/leases/revoke {"lease_id":"` + id + `","sync":false}`}, stdout: "queued"},
		{name: "revoke sync", args: []string{"lease", "revoke", "-sync", id},
			routes: map[string]reply{"PUT /v1/sys/leases/revoke": {status: 204}},
			want:   []string{`PUT /v1/sys/leases/revoke {"lease_id":"` + id + `","sync":true}`}, stdout: "Revoked lease: " + id},
		{name: "revoke prefix", args: []string{"lease", "revoke", "-prefix", "database/creds/"},
			routes: map[string]reply{"PUT /v1/sys/leases/revoke-prefix/database/creds/": {status: 204}},
			want:   []string{`PUT /v1/sys/leases/revoke-prefix/database/creds/ {"sync":false}`}, stdout: "with prefix"},
		{name: "revoke force", args: []string{"lease", "revoke", "-prefix", "-force", "database/"},
			routes: map[string]reply{"PUT /v1/sys/leases/revoke-force/database/": {status: 204}},
			want:   []string{`PUT /v1/sys/leases/revoke-force/database/`}},
		{name: "force without prefix", args: []string{"lease", "revoke", "-force", id}, wantErr: true},
		{name: "lookup error", args: []string{"lease", "lookup", "x/y"},
			routes: map[string]reply{"PUT /v1/sys/leases/lookup": {status: 400, body: `{"errors":["invalid lease"]}`}},
			want:   []string{`PUT /v1/sys/leases/lookup {"lease_id":"x/y"}`}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, srv := newFakeServer(t, tt.routes)
			res := runCLI(t, srv.URL, nil, "", tt.args...)
			if got := fs.requests(); !slices.Equal(got, tt.want) {
				t.Errorf("requests:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			if (res.code != 0) != tt.wantErr {
				t.Errorf("exit code %d (stderr %q), want error=%t", res.code, res.stderr, tt.wantErr)
			}
			if !strings.Contains(res.stdout, tt.stdout) {
				t.Errorf("stdout %q does not contain %q", res.stdout, tt.stdout)
			}
		})
	}
}
