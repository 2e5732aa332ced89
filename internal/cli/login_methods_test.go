package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const loginReply = `{"request_id":"r1","auth":{"client_token":"hvs.LoginT0ken","accessor":"acc1","policies":["default","dev"],
"token_policies":["default","dev"],"metadata":{"role":"ci"},"lease_duration":3600,"renewable":true,"token_type":"service"}}`

func TestLoginMethods(t *testing.T) {
	dir := t.TempDir()
	jwtFile := filepath.Join(dir, "token.jwt")
	if err := os.WriteFile(jwtFile, []byte("eyJ.file.token"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string // the request the server must get
		code  int
	}{
		{"userpass", []string{"-method=userpass", "username=alice", "password=pw"}, "",
			`POST /v1/auth/userpass/login/alice {"password":"pw"}`, 0},
		{"userpass prompt and path", []string{"-method=userpass", "-path=people", "username=alice"}, "pw-from-stdin\n",
			`POST /v1/auth/people/login/alice {"password":"pw-from-stdin"}`, 0},
		{"approle", []string{"-method=approle", "role_id=r1", "secret_id=s1"}, "",
			`POST /v1/auth/approle/login {"role_id":"r1","secret_id":"s1"}`, 0},
		{"jwt from file", []string{"-method=jwt", "role=ci", "jwt=@" + jwtFile}, "",
			`POST /v1/auth/jwt/login {"jwt":"eyJ.file.token","role":"ci"}`, 0},
		{"kubernetes", []string{"-method=kubernetes", "-path=k8s/", "role=app", "jwt=sa.token"}, "",
			`POST /v1/auth/k8s/login {"jwt":"sa.token","role":"app"}`, 0},
		{"cert", []string{"-method=cert", "name=web"}, "",
			`POST /v1/auth/cert/login {"name":"web"}`, 0},
		{"cert without name", []string{"-method=cert"}, "", `POST /v1/auth/cert/login {}`, 0},
		{"userpass without username", []string{"-method=userpass", "password=pw"}, "", "", 2},
		{"approle without role_id", []string{"-method=approle"}, "", "", 2},
		{"jwt without jwt", []string{"-method=jwt", "role=ci"}, "", "", 2},
		{"unknown method", []string{"-method=saml"}, "", "", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			routes := map[string]reply{}
			if tc.want != "" {
				routes[strings.Fields(tc.want)[0]+" "+strings.Fields(tc.want)[1]] = reply{body: loginReply}
			}
			fs, srv := newFakeServer(t, routes)
			home := t.TempDir()
			res := runCLI(t, srv.URL, map[string]string{"HOME": home, "COFFER_TOKEN": ""}, tc.stdin, append([]string{"login"}, tc.args...)...)
			if res.code != tc.code {
				t.Fatalf("exit %d, want %d: %s", res.code, tc.code, res.stderr)
			}
			if tc.code != 0 {
				if len(fs.requests()) != 0 {
					t.Fatalf("a usage error still sent %v", fs.requests())
				}
				return
			}
			if got := fs.requests(); len(got) != 1 || got[0] != tc.want {
				t.Fatalf("requests = %q, want %q", got, tc.want)
			}
			stored, err := os.ReadFile(filepath.Join(home, ".coffer-token"))
			if err != nil || strings.TrimSpace(string(stored)) != "hvs.LoginT0ken" {
				t.Fatalf("stored token = %q, %v", stored, err)
			}
			if !strings.Contains(res.stdout, "Success!") || !strings.Contains(res.stdout, "hvs.LoginT0ken") {
				t.Fatalf("stdout = %s", res.stdout)
			}
		})
	}
}

func TestLoginMethodNoStoreAndField(t *testing.T) {
	_, srv := newFakeServer(t, map[string]reply{"POST /v1/auth/jwt/login": {body: loginReply}})
	home := t.TempDir()
	res := runCLI(t, srv.URL, map[string]string{"HOME": home}, "", "login", "-no-store", "-method=jwt", "-field=token", "role=ci", "jwt=x")
	if res.code != 0 || strings.TrimSpace(res.stdout) != "hvs.LoginT0ken" {
		t.Fatalf("exit %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(home, ".coffer-token")); !os.IsNotExist(err) {
		t.Fatalf("-no-store wrote the token file: %v", err)
	}
}

func TestLoginMethodFailure(t *testing.T) {
	_, srv := newFakeServer(t, map[string]reply{"POST /v1/auth/jwt/login": {status: 400, body: `{"errors":["error validating token: token is expired (exp)"]}`}})
	home := t.TempDir()
	res := runCLI(t, srv.URL, map[string]string{"HOME": home}, "", "login", "-method=jwt", "role=ci", "jwt=x")
	if res.code != 1 || !strings.Contains(res.stderr, "token is expired") {
		t.Fatalf("exit %d stderr %q", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(home, ".coffer-token")); !os.IsNotExist(err) {
		t.Fatalf("a failed login wrote the token file: %v", err)
	}
}
