package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// goldenRoutes are realistic server answers, shaped like Vault's.
var goldenRoutes = map[string]reply{
	"GET /v1/sys/internal/ui/mounts/secret/app": {body: mountsV2},
	"GET /v1/sys/internal/ui/mounts/kv1/app":    {body: mountsV1},
	"GET /v1/secret/data/app": {body: `{"request_id":"0b3a","lease_id":"","renewable":false,"lease_duration":0,
		"data":{"data":{"password":"hunter2","user":"admin","multi":"line one\nline\ttwo"},
		"metadata":{"created_time":"2024-01-02T03:04:05.123Z","custom_metadata":{"owner":"infra"},"deletion_time":"","destroyed":false,"version":2}},
		"wrap_info":null,"warnings":null,"auth":null}`},
	"GET /v1/kv1/app": {body: `{"request_id":"77","lease_duration":2764800,"data":{"a":"b","n":12345678901234567890}}`},
	"PUT /v1/secret/data/app": {body: `{"request_id":"9","data":{"created_time":"2024-01-02T03:04:05Z","custom_metadata":null,
		"deletion_time":"","destroyed":false,"version":3},"warnings":["cas is recommended"]}`},
	"GET /v1/secret/metadata/app": {body: `{"data":{"cas_required":false,"created_time":"2024-01-01T00:00:00Z","current_version":2,
		"custom_metadata":null,"delete_version_after":"0s","max_versions":0,"oldest_version":0,"updated_time":"2024-01-02T00:00:00Z",
		"versions":{"1":{"created_time":"2024-01-01T00:00:00Z","deletion_time":"2024-01-01T12:00:00Z","destroyed":false},
		"2":{"created_time":"2024-01-02T00:00:00Z","deletion_time":"","destroyed":false},
		"10":{"created_time":"2024-01-03T00:00:00Z","deletion_time":"","destroyed":true}}}}`},
	"GET /v1/sys/internal/ui/mounts/secret/dir": {body: mountsV2},
	"LIST /v1/secret/metadata/dir":              {body: `{"data":{"keys":["zeta","alpha/","mid"]}}`},
	"POST /v1/auth/token/create": {body: `{"request_id":"r","auth":{"client_token":"hvs.CAESIChild","accessor":"8609694a",
		"policies":["app","default"],"token_policies":["app","default"],"identity_policies":null,
		"metadata":{"team":"infra","env":"prod"},"lease_duration":2764800,"renewable":true,"orphan":false}}`},
	"GET /v1/auth/token/lookup-self": {body: `{"data":{"accessor":"8609694a","creation_ttl":2764800,"display_name":"token",
		"explicit_max_ttl":0,"id":"hvs.self","policies":["root"],"ttl":0,"period":3600,"meta":null,"renewable":false}}`},
	"GET /v1/sys/seal-status": {body: `{"type":"shamir","initialized":true,"sealed":false,"t":3,"n":5,"progress":0,"nonce":"",
		"version":"1.21.0","build_date":"2025-01-01T00:00:00Z","migration":false,"cluster_name":"coffer-cluster-1","cluster_id":"c1d2",
		"recovery_seal":false,"storage_type":"inmem"}`},
	"GET /v1/sys/leader": {body: `{"ha_enabled":false,"is_self":false,"leader_address":"","leader_cluster_address":""}`},
	"GET /v1/sys/mounts": {body: `{"request_id":"m","data":{
		"secret/":{"type":"kv","description":"key/value secret storage","accessor":"kv_1a2b","uuid":"u1",
			"config":{"default_lease_ttl":0,"max_lease_ttl":86400,"force_no_cache":false},"options":{"version":"2"},"local":false,"seal_wrap":false},
		"sys/":{"type":"system","description":"system endpoints","accessor":"system_9","uuid":"u2",
			"config":{"default_lease_ttl":0,"max_lease_ttl":0},"options":null,"local":false,"seal_wrap":true},
		"cubbyhole/":{"type":"cubbyhole","description":"per-token private secret storage","accessor":"cubbyhole_3","uuid":"u3",
			"config":{"default_lease_ttl":0,"max_lease_ttl":0},"options":null,"local":true,"seal_wrap":false}}}`},
	"PUT /v1/sys/init": {body: `{"keys":["0a0b0c","0d0e0f"],"keys_base64":["CgsM","DQ4P"],"root_token":"hvs.root"}`},
}

func TestOutputGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"kv_get_v2.txt", []string{"kv", "get", "secret/app"}},
		{"kv_get_v2.json", []string{"kv", "get", "-format=json", "secret/app"}},
		{"kv_get_v2.yaml", []string{"kv", "get", "-format=yaml", "secret/app"}},
		{"kv_get_field.txt", []string{"kv", "get", "-field=password", "secret/app"}},
		{"kv_get_field_json.txt", []string{"kv", "get", "-field=user", "-format=json", "secret/app"}},
		{"kv_get_v1.txt", []string{"kv", "get", "kv1/app"}},
		{"kv_put_v2.txt", []string{"kv", "put", "secret/app", "a=b"}},
		{"kv_metadata_get.txt", []string{"kv", "metadata", "get", "secret/app"}},
		{"kv_list.txt", []string{"kv", "list", "secret/dir"}},
		{"kv_list.json", []string{"list", "-format=json", "secret/metadata/dir"}},
		{"read_lease.txt", []string{"read", "kv1/app"}},
		{"read_lease.yaml", []string{"read", "-format=yaml", "kv1/app"}},
		{"token_create.txt", []string{"token", "create", "-policy=app"}},
		{"token_create.json", []string{"token", "create", "-policy=app", "-format=json"}},
		{"token_create_field.txt", []string{"token", "create", "-policy=app", "-field=token"}},
		{"token_lookup.txt", []string{"token", "lookup"}},
		{"status.txt", []string{"status"}},
		{"status.json", []string{"status", "-format=json"}},
		{"secrets_list.txt", []string{"secrets", "list"}},
		{"secrets_list_detailed.txt", []string{"secrets", "list", "-detailed"}},
		{"operator_init.txt", []string{"operator", "init", "-key-shares=2", "-key-threshold=2"}},
		{"operator_init.json", []string{"operator", "init", "-key-shares=2", "-key-threshold=2", "-format=json"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			_, srv := newFakeServer(t, goldenRoutes)
			res := runCLI(t, srv.URL, nil, "", tt.args...)
			if res.code != 0 {
				t.Fatalf("exit code %d: %s", res.code, res.stderr)
			}
			checkGolden(t, tt.golden, res.stdout)
		})
	}
}

func TestWarningsGoToStderr(t *testing.T) {
	_, srv := newFakeServer(t, goldenRoutes)
	res := runCLI(t, srv.URL, nil, "", "kv", "put", "secret/app", "a=b")
	if !strings.Contains(res.stderr, "* cas is recommended") {
		t.Errorf("stderr %q lacks the server's warning", res.stderr)
	}
	if strings.Contains(res.stdout, "cas is recommended") {
		t.Errorf("warning printed on stdout")
	}
}

func TestRawFieldNewline(t *testing.T) {
	tests := []struct {
		name string
		tty  bool
		want string
	}{
		{"pipe gets the exact value", false, "hunter2"},
		{"terminal gets a newline", true, "hunter2\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := &printer{out: &out, format: "table", field: "password", tty: tt.tty}
			if err := p.secret(&apiclient.Secret{Data: map[string]any{"password": "hunter2"}}); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("output %q, want %q", out.String(), tt.want)
			}
		})
	}
}

func TestTableCellsKeepTabsAndEmptyCells(t *testing.T) {
	var out bytes.Buffer
	if err := writeTable(&out, []string{"Key", "Value"}, [][]string{{"a\tb", ""}, {"long_key", "v"}}); err != nil {
		t.Fatal(err)
	}
	want := "Key         Value\n---         -----\na\tb         n/a\nlong_key    v\n"
	if out.String() != want {
		t.Errorf("table:\n%q\nwant\n%q", out.String(), want)
	}
}
