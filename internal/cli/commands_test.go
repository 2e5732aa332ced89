package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	mountsV2  = `{"data":{"path":"secret/","type":"kv","options":{"version":"2"}}}`
	mountsV1  = `{"data":{"path":"kv1/","type":"kv","options":null}}`
	writeMeta = `{"request_id":"r","data":{"created_time":"2024-01-02T03:04:05Z","custom_metadata":null,"deletion_time":"","destroyed":false,"version":3}}`
	authReply = `{"request_id":"r","auth":{"client_token":"hvs.NewChild","accessor":"acc1","policies":["a","default"],"token_policies":["a","default"],"identity_policies":null,"metadata":{"k":"v"},"lease_duration":3600,"renewable":true}}`
)

// commonRoutes are the mount lookups most kv cases need.
var commonRoutes = map[string]reply{
	"GET /v1/sys/internal/ui/mounts/secret/foo": {body: mountsV2},
	"GET /v1/sys/internal/ui/mounts/secret":     {body: mountsV2},
	"GET /v1/sys/internal/ui/mounts/kv1/foo":    {body: mountsV1},
}

func TestCommandRequests(t *testing.T) {
	const probe = "GET /v1/sys/internal/ui/mounts/secret/foo"
	tests := []struct {
		name    string
		args    []string
		stdin   string
		routes  map[string]reply
		want    []string // requests, in order
		stdout  string   // substring of stdout
		wantErr bool
	}{
		{name: "kv put v2 with cas", args: []string{"kv", "put", "-cas=0", "secret/foo", "a=b"},
			routes: map[string]reply{"PUT /v1/secret/data/foo": {body: writeMeta}},
			want:   []string{probe, `PUT /v1/secret/data/foo {"data":{"a":"b"},"options":{"cas":0}}`}, stdout: "version            3"},
		{name: "kv put with -mount", args: []string{"kv", "put", "-mount=secret", "foo", "a=b", "a=c"},
			routes: map[string]reply{"PUT /v1/secret/data/foo": {body: writeMeta}},
			want:   []string{"GET /v1/sys/internal/ui/mounts/secret", `PUT /v1/secret/data/foo {"data":{"a":["b","c"]}}`}},
		{name: "kv put v1", args: []string{"kv", "put", "kv1/foo", "a=-"}, stdin: "from stdin",
			routes: map[string]reply{"PUT /v1/kv1/foo": {status: 204}},
			want:   []string{"GET /v1/sys/internal/ui/mounts/kv1/foo", `PUT /v1/kv1/foo {"a":"from stdin"}`},
			stdout: "Success! Data written to: kv1/foo\n"},
		{name: "kv put on an unknown mount falls back to v1", args: []string{"kv", "put", "other/foo", "a=b"},
			routes: map[string]reply{"PUT /v1/other/foo": {status: 204}},
			want:   []string{"GET /v1/sys/internal/ui/mounts/other/foo", `PUT /v1/other/foo {"a":"b"}`}},
		{name: "kv get version", args: []string{"kv", "get", "-version=2", "secret/foo"},
			routes: map[string]reply{"GET /v1/secret/data/foo?version=2": {body: `{"data":{"data":{"a":"b"},"metadata":{"version":2}}}`}},
			want:   []string{probe, "GET /v1/secret/data/foo?version=2"}, stdout: "a      b"},
		{name: "kv list the mount", args: []string{"kv", "list", "secret/"},
			routes: map[string]reply{"LIST /v1/secret/metadata": {body: `{"data":{"keys":["b","a/"]}}`}},
			want:   []string{"GET /v1/sys/internal/ui/mounts/secret", "LIST /v1/secret/metadata"}, stdout: "Keys\n----\na/\nb\n"},
		{name: "kv patch", args: []string{"kv", "patch", "secret/foo", "a=c"},
			routes: map[string]reply{"PATCH /v1/secret/data/foo": {body: writeMeta}},
			want:   []string{probe, `PATCH /v1/secret/data/foo {"data":{"a":"c"}}`}},
		{name: "kv patch rw uses cas", args: []string{"kv", "patch", "-method=rw", "secret/foo", "a=c"},
			routes: map[string]reply{
				"GET /v1/secret/data/foo": {body: `{"data":{"data":{"a":"b","x":"y"},"metadata":{"version":4}}}`},
				"PUT /v1/secret/data/foo": {body: writeMeta}},
			want: []string{probe, "GET /v1/secret/data/foo", `PUT /v1/secret/data/foo {"data":{"a":"c","x":"y"},"options":{"cas":4}}`}},
		{name: "kv patch on v1 fails", args: []string{"kv", "patch", "kv1/foo", "a=c"},
			want: []string{"GET /v1/sys/internal/ui/mounts/kv1/foo"}, wantErr: true},
		{name: "kv delete latest", args: []string{"kv", "delete", "secret/foo"},
			routes: map[string]reply{"DELETE /v1/secret/data/foo": {status: 204}},
			want:   []string{probe, "DELETE /v1/secret/data/foo"}, stdout: "Success! Data deleted (if it existed) at: secret/data/foo"},
		{name: "kv delete versions", args: []string{"kv", "delete", "-versions=1,2", "secret/foo"},
			routes: map[string]reply{"POST /v1/secret/delete/foo": {status: 204}},
			want:   []string{probe, `POST /v1/secret/delete/foo {"versions":[1,2]}`}},
		{name: "kv undelete", args: []string{"kv", "undelete", "-versions=3", "secret/foo"},
			routes: map[string]reply{"POST /v1/secret/undelete/foo": {status: 204}},
			want:   []string{probe, `POST /v1/secret/undelete/foo {"versions":[3]}`}, stdout: "Success! Data written to: secret/undelete/foo"},
		{name: "kv destroy", args: []string{"kv", "destroy", "-versions=3", "secret/foo"},
			routes: map[string]reply{"PUT /v1/secret/destroy/foo": {status: 204}},
			want:   []string{probe, `PUT /v1/secret/destroy/foo {"versions":[3]}`}},
		{name: "kv metadata put", args: []string{"kv", "metadata", "put", "-max-versions=5", "-cas-required", "-custom-metadata=o=infra", "secret/foo"},
			routes: map[string]reply{"POST /v1/secret/metadata/foo": {status: 204}},
			want:   []string{probe, `POST /v1/secret/metadata/foo {"cas_required":true,"custom_metadata":{"o":"infra"},"max_versions":5}`}},
		{name: "kv metadata delete", args: []string{"kv", "metadata", "delete", "secret/foo"},
			routes: map[string]reply{"DELETE /v1/secret/metadata/foo": {status: 204}},
			want:   []string{probe, "DELETE /v1/secret/metadata/foo"}},
		{name: "token create", args: []string{"token", "create", "-policy=a", "-policy=b,c", "-ttl=1h", "-metadata=k=v", "-use-limit=3", "-display-name=ci"},
			routes: map[string]reply{"POST /v1/auth/token/create": {body: authReply}},
			want:   []string{`POST /v1/auth/token/create {"display_name":"ci","meta":{"k":"v"},"num_uses":3,"policies":["a","b","c"],"renewable":true,"ttl":"1h"}`}},
		{name: "token create orphan batch", args: []string{"token", "create", "-orphan", "-type=batch", "-renewable=false"},
			routes: map[string]reply{"POST /v1/auth/token/create-orphan": {body: authReply}},
			want:   []string{`POST /v1/auth/token/create-orphan {"no_parent":true,"renewable":false,"type":"batch"}`}},
		{name: "token lookup self", args: []string{"token", "lookup"},
			routes: map[string]reply{"GET /v1/auth/token/lookup-self": {body: `{"data":{"policies":["root"],"ttl":0}}`}},
			want:   []string{"GET /v1/auth/token/lookup-self"}, stdout: "policies    [root]"},
		{name: "token lookup accessor", args: []string{"token", "lookup", "-accessor", "acc1"},
			routes: map[string]reply{"POST /v1/auth/token/lookup-accessor": {body: `{"data":{"id":""}}`}},
			want:   []string{`POST /v1/auth/token/lookup-accessor {"accessor":"acc1"}`}},
		{name: "token renew self", args: []string{"token", "renew", "-increment=30m"},
			routes: map[string]reply{"POST /v1/auth/token/renew-self": {body: authReply}},
			want:   []string{`POST /v1/auth/token/renew-self {"increment":"30m"}`}},
		{name: "token renew other", args: []string{"token", "renew", "hvs.Other"},
			routes: map[string]reply{"POST /v1/auth/token/renew": {body: authReply}},
			want:   []string{`POST /v1/auth/token/renew {"token":"hvs.Other"}`}},
		{name: "token revoke orphan", args: []string{"token", "revoke", "-mode=orphan", "hvs.Other"},
			routes: map[string]reply{"POST /v1/auth/token/revoke-orphan": {status: 204}},
			want:   []string{`POST /v1/auth/token/revoke-orphan {"token":"hvs.Other"}`}, stdout: "Success! Revoked token (if it existed)"},
		{name: "token revoke self", args: []string{"token", "revoke", "-self"},
			routes: map[string]reply{"POST /v1/auth/token/revoke-self": {status: 204}},
			want:   []string{"POST /v1/auth/token/revoke-self"}},
		{name: "token revoke accessor", args: []string{"token", "revoke", "-accessor", "acc1"},
			routes: map[string]reply{"POST /v1/auth/token/revoke-accessor": {status: 204}},
			want:   []string{`POST /v1/auth/token/revoke-accessor {"accessor":"acc1"}`}},
		{name: "token capabilities self", args: []string{"token", "capabilities", "secret/data/x"},
			routes: map[string]reply{"POST /v1/sys/capabilities-self": {body: `{"data":{"capabilities":["read","create"],"secret/data/x":["read","create"]}}`}},
			want:   []string{`POST /v1/sys/capabilities-self {"paths":["secret/data/x"]}`}, stdout: "create, read\n"},
		{name: "token capabilities of a token", args: []string{"token", "capabilities", "hvs.Other", "secret/data/x"},
			routes: map[string]reply{"POST /v1/sys/capabilities": {body: `{"data":{"capabilities":["deny"]}}`}},
			want:   []string{`POST /v1/sys/capabilities {"paths":["secret/data/x"],"token":"hvs.Other"}`}, stdout: "deny\n"},
		{name: "policy write from stdin", args: []string{"policy", "write", "App", "-"}, stdin: `path "x" { capabilities = ["read"] }`,
			routes: map[string]reply{"PUT /v1/sys/policies/acl/app": {status: 204}},
			want:   []string{`PUT /v1/sys/policies/acl/app {"policy":"path \"x\" { capabilities = [\"read\"] }"}`}, stdout: "Success! Uploaded policy: app"},
		{name: "policy read", args: []string{"policy", "read", "app"},
			routes: map[string]reply{"GET /v1/sys/policies/acl/app": {body: `{"data":{"name":"app","policy":"path \"x\" {}\n"}}`}},
			want:   []string{"GET /v1/sys/policies/acl/app"}, stdout: "path \"x\" {}\n"},
		{name: "policy list", args: []string{"policy", "list"},
			routes: map[string]reply{"LIST /v1/sys/policies/acl": {body: `{"data":{"keys":["root","default"]}}`}},
			want:   []string{"LIST /v1/sys/policies/acl"}, stdout: "default\nroot\n"},
		{name: "policy delete", args: []string{"policy", "delete", "app"},
			routes: map[string]reply{"DELETE /v1/sys/policies/acl/app": {status: 204}},
			want:   []string{"DELETE /v1/sys/policies/acl/app"}},
		{name: "secrets enable", args: []string{"secrets", "enable", "-path=team/", "-version=2", "-description=d", "-default-lease-ttl=1h", "kv"},
			routes: map[string]reply{"POST /v1/sys/mounts/team": {status: 204}},
			want:   []string{`POST /v1/sys/mounts/team {"config":{"default_lease_ttl":"1h"},"description":"d","local":false,"options":{"version":"2"},"seal_wrap":false,"type":"kv"}`},
			stdout: "Success! Enabled the kv secrets engine at: team/"},
		{name: "secrets enable kv-v2", args: []string{"secrets", "enable", "kv-v2"},
			routes: map[string]reply{"POST /v1/sys/mounts/kv-v2": {status: 204}},
			want:   []string{`POST /v1/sys/mounts/kv-v2 {"config":{},"description":"","local":false,"options":{"version":"2"},"seal_wrap":false,"type":"kv"}`}},
		{name: "secrets tune", args: []string{"secrets", "tune", "-max-lease-ttl=24h", "-description=", "secret"},
			routes: map[string]reply{"POST /v1/sys/mounts/secret/tune": {status: 204}},
			want:   []string{`POST /v1/sys/mounts/secret/tune {"description":"","max_lease_ttl":"24h"}`}, stdout: "Success! Tuned the secrets engine at: secret/"},
		{name: "secrets disable", args: []string{"secrets", "disable", "team"},
			routes: map[string]reply{"DELETE /v1/sys/mounts/team": {status: 204}},
			want:   []string{"DELETE /v1/sys/mounts/team"}, stdout: "at: team/"},
		{name: "write with JSON from stdin", args: []string{"write", "sys/thing", "-", "b=2"}, stdin: `{"a":1}`,
			routes: map[string]reply{"PUT /v1/sys/thing": {status: 204}},
			want:   []string{`PUT /v1/sys/thing {"a":1,"b":"2"}`}, stdout: "Success! Data written to: sys/thing"},
		{name: "read with query", args: []string{"read", "/secret/data/foo", "version=1"},
			routes: map[string]reply{"GET /v1/secret/data/foo?version=1": {body: `{"data":{"a":"b"}}`}},
			want:   []string{"GET /v1/secret/data/foo?version=1"}},
		{name: "generic list and delete", args: []string{"delete", "secret/data/foo"},
			routes: map[string]reply{"DELETE /v1/secret/data/foo": {status: 204}},
			want:   []string{"DELETE /v1/secret/data/foo"}},
		{name: "generic patch", args: []string{"patch", "secret/data/foo", "a=b"},
			routes: map[string]reply{"PATCH /v1/secret/data/foo": {body: writeMeta}},
			want:   []string{`PATCH /v1/secret/data/foo {"a":"b"}`}},
		{name: "unseal with argument", args: []string{"operator", "unseal", "k1"},
			routes: map[string]reply{"PUT /v1/sys/unseal": {body: `{"sealed":true,"t":3,"n":5,"progress":1,"type":"shamir"}`}},
			want:   []string{`PUT /v1/sys/unseal {"key":"k1"}`}, stdout: "Unseal Progress    1/3"},
		{name: "unseal from stdin", args: []string{"operator", "unseal"}, stdin: "k2\nignored\n",
			routes: map[string]reply{"PUT /v1/sys/unseal": {body: `{"sealed":false}`}},
			want:   []string{`PUT /v1/sys/unseal {"key":"k2"}`}},
		{name: "unseal reset", args: []string{"operator", "unseal", "-reset"},
			routes: map[string]reply{"PUT /v1/sys/unseal": {body: `{"sealed":true}`}},
			want:   []string{`PUT /v1/sys/unseal {"reset":true}`}},
		{name: "seal", args: []string{"operator", "seal"},
			routes: map[string]reply{"PUT /v1/sys/seal": {status: 204}},
			want:   []string{"PUT /v1/sys/seal"}, stdout: "Success! Coffer is sealed."},
		{name: "rotate", args: []string{"operator", "rotate"},
			routes: map[string]reply{"PUT /v1/sys/rotate": {status: 204},
				"GET /v1/sys/key-status": {body: `{"term":2,"install_time":"2024-01-02T03:04:05Z","data":{"term":2,"install_time":"2024-01-02T03:04:05Z"}}`}},
			want: []string{"PUT /v1/sys/rotate", "GET /v1/sys/key-status"}, stdout: "Key Term            2"},
		{name: "rekey init", args: []string{"operator", "rekey", "-init", "-key-shares=3", "-key-threshold=2"},
			routes: map[string]reply{"PUT /v1/sys/rekey/init": {body: `{"nonce":"n1","started":true,"t":2,"n":3,"progress":0,"required":3}`}},
			want:   []string{`PUT /v1/sys/rekey/init {"secret_shares":3,"secret_threshold":2}`}, stdout: "Rekey Progress           0/3"},
		{name: "rekey provide", args: []string{"operator", "rekey", "k1"},
			routes: map[string]reply{"GET /v1/sys/rekey/init": {body: `{"nonce":"n1","started":true,"t":2,"n":3,"progress":0,"required":1}`},
				"PUT /v1/sys/rekey/update": {body: `{"complete":true,"nonce":"n1","keys":["0a0b"],"keys_base64":["Cgs="]}`}},
			want: []string{"GET /v1/sys/rekey/init", `PUT /v1/sys/rekey/update {"key":"k1","nonce":"n1"}`}, stdout: "Key 1: Cgs="},
		{name: "rekey cancel", args: []string{"operator", "rekey", "-cancel"},
			routes: map[string]reply{"DELETE /v1/sys/rekey/init": {status: 204}},
			want:   []string{"DELETE /v1/sys/rekey/init"}},
		{name: "generate-root init with otp", args: []string{"operator", "generate-root", "-init", "-otp=abc"},
			routes: map[string]reply{"PUT /v1/sys/generate-root/attempt": {body: `{"nonce":"n2","started":true,"required":3,"otp_length":28}`}},
			want:   []string{`PUT /v1/sys/generate-root/attempt {"otp":"abc"}`}, stdout: "Nonce         n2"},
		{name: "generate-root provide with nonce", args: []string{"operator", "generate-root", "-nonce=n2", "k1"},
			routes: map[string]reply{"PUT /v1/sys/generate-root/update": {body: `{"nonce":"n2","complete":true,"encoded_token":"ZW5j"}`}},
			want:   []string{`PUT /v1/sys/generate-root/update {"key":"k1","nonce":"n2"}`}, stdout: "Encoded Token    ZW5j"},
		{name: "login stores nothing with -no-store", args: []string{"login", "-no-store", "hvs.Login"},
			routes: map[string]reply{"GET /v1/auth/token/lookup-self": {body: `{"data":{"accessor":"a1","policies":["default"],"ttl":60}}`}},
			want:   []string{"GET /v1/auth/token/lookup-self"}, stdout: "token_duration       1m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			routes := map[string]reply{}
			for k, v := range commonRoutes {
				routes[k] = v
			}
			for k, v := range tt.routes {
				routes[k] = v
			}
			fs, srv := newFakeServer(t, routes)
			res := runCLI(t, srv.URL, nil, tt.stdin, tt.args...)
			if got := fs.requests(); !slices.Equal(got, tt.want) {
				t.Errorf("requests:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			if (res.code != 0) != tt.wantErr {
				t.Errorf("exit code %d (stderr %q), want error=%t", res.code, res.stderr, tt.wantErr)
			}
			if !strings.Contains(res.stdout, tt.stdout) {
				t.Errorf("stdout %q does not contain %q", res.stdout, tt.stdout)
			}
			if strings.Contains(res.stderr, fakeToken) || strings.Contains(res.stdout, fakeToken) {
				t.Errorf("output reveals the token")
			}
		})
	}
}

func TestLoginStoresToken(t *testing.T) {
	_, srv := newFakeServer(t, map[string]reply{
		"GET /v1/auth/token/lookup-self": {body: `{"data":{"accessor":"a1","policies":["root"],"ttl":0}}`}})
	home := t.TempDir()
	res := runCLI(t, srv.URL, map[string]string{"HOME": home, "COFFER_TOKEN": ""}, "hvs.FromStdin\n", "login")
	if res.code != 0 {
		t.Fatalf("login exit %d: %s", res.code, res.stderr)
	}
	path := filepath.Join(home, ".coffer-token")
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "hvs.FromStdin" {
		t.Fatalf("token file = %q, %v", b, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %o, want 600", fi.Mode().Perm())
	}
	if !strings.Contains(res.stdout, "token_duration       ∞") {
		t.Errorf("stdout lacks the infinite duration of a root token:\n%s", res.stdout)
	}
}
