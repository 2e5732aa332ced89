package cli

import (
	"strings"
	"testing"
)

func TestExitCodesAndErrors(t *testing.T) {
	routes := map[string]reply{
		"GET /v1/sys/internal/ui/mounts/secret/missing": {body: mountsV2},
		"GET /v1/sys/internal/ui/mounts/secret/foo":     {body: mountsV2},
		"GET /v1/secret/forbidden":                      {status: 403, body: `{"errors":["permission denied"]}`},
		"GET /v1/secret/echo":                           {status: 400, body: `{"errors":["bad token ` + fakeToken + `"]}`},
		"GET /v1/sys/seal-status":                       {body: `{"sealed":true,"t":3,"n":5,"progress":0,"type":"shamir","initialized":true}`},
		"GET /v1/secret/data/foo":                       {body: `{"data":{"data":{"a":"b"},"metadata":{"version":1}}}`},
	}
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		stderr   string // exact stderr
	}{
		{name: "no value is 2", args: []string{"kv", "get", "secret/missing"}, wantCode: 2,
			stderr: "Error: no value found at secret/data/missing\n"},
		{name: "api error is 1 and one line", args: []string{"read", "secret/forbidden"}, wantCode: 1,
			stderr: "Error: GET /v1/secret/forbidden: 403 permission denied\n"},
		{name: "token echoed by the server is redacted", args: []string{"read", "secret/echo"}, wantCode: 1,
			stderr: "Error: GET /v1/secret/echo: 400 bad token [REDACTED]\n"},
		{name: "unknown flag is a usage error", args: []string{"kv", "get", "-bogus", "secret/foo"}, wantCode: 2,
			stderr: "Error: unknown flag: --bogus\nRun 'coffer kv get --help' for usage.\n"},
		{name: "missing argument is a usage error", args: []string{"kv", "get"}, wantCode: 2,
			stderr: "Error: not enough arguments (expected 1, got 0)\nRun 'coffer kv get --help' for usage.\n"},
		{name: "unknown command is a usage error", args: []string{"frobnicate"}, wantCode: 2},
		{name: "unknown subcommand is a usage error", args: []string{"token", "frob"}, wantCode: 2},
		{name: "bad format is a usage error", args: []string{"kv", "get", "-format=xml", "secret/foo"}, wantCode: 2},
		{name: "bad format from the environment", args: []string{"read", "secret/data/foo"}, env: map[string]string{"COFFER_FORMAT": "xml"}, wantCode: 2},
		{name: "sealed status is 2 and quiet", args: []string{"status"}, wantCode: 2, stderr: ""},
		{name: "unreachable server is 1", args: []string{"status", "-address=http://127.0.0.1:1"}, wantCode: 1},
		{name: "bad address is 1", args: []string{"status", "-address=127.0.0.1:8200"}, wantCode: 1},
		{name: "missing field is 1", args: []string{"kv", "get", "-field=nope", "secret/foo"}, wantCode: 1,
			stderr: "Error: field \"nope\" not present in secret\n"},
		{name: "mutually exclusive flags", args: []string{"operator", "rekey", "-init", "-cancel"}, wantCode: 2},
		{name: "server needs -config or -dev", args: []string{"server"}, wantCode: 2},
		{name: "revoke needs a token", args: []string{"token", "revoke"}, wantCode: 2},
		{name: "undelete needs versions", args: []string{"kv", "undelete", "secret/foo"}, wantCode: 2},
		{name: "help is not an error", args: []string{"kv", "put", "-help"}, wantCode: 0},
		{name: "bare group prints help", args: []string{"kv"}, wantCode: 0},
		{name: "version", args: []string{"version"}, wantCode: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newFakeServer(t, routes)
			res := runCLI(t, srv.URL, tt.env, "", tt.args...)
			if res.code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", res.code, tt.wantCode, res.stderr)
			}
			if tt.stderr != "" || tt.name == "sealed status is 2 and quiet" {
				if res.stderr != tt.stderr {
					t.Errorf("stderr = %q, want %q", res.stderr, tt.stderr)
				}
			}
			if res.code != 0 && tt.wantCode != 2 && strings.Count(res.stderr, "\n") != 1 {
				t.Errorf("error output is not one line: %q", res.stderr)
			}
			if strings.Contains(res.stderr+res.stdout, fakeToken) {
				t.Errorf("output reveals the token")
			}
		})
	}
}

func TestFormatFromEnvironment(t *testing.T) {
	_, srv := newFakeServer(t, map[string]reply{"GET /v1/secret/x": {body: `{"data":{"a":"b"}}`}})
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"COFFER_FORMAT", map[string]string{"COFFER_FORMAT": "json"}, []string{"read", "secret/x"}, "{\n  \"request_id\""},
		{"VAULT_FORMAT fallback", map[string]string{"VAULT_FORMAT": "yaml"}, []string{"read", "secret/x"}, "data:\n  a: b\n"},
		{"flag wins", map[string]string{"COFFER_FORMAT": "json"}, []string{"read", "-format=table", "secret/x"}, "Key    Value\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, srv.URL, tt.env, "", tt.args...)
			if res.code != 0 || !strings.HasPrefix(res.stdout, tt.want) {
				t.Errorf("exit %d, stdout %q; want prefix %q", res.code, res.stdout, tt.want)
			}
		})
	}
}
