package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/oidctest"
	"github.com/cofferdev/coffer/internal/server/servertest"
	"github.com/cofferdev/coffer/internal/testport"
)

// lockedBuffer is a goroutine-safe output sink for a CLI run in the
// background.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ssoSetup is a server with an oidc mount at auth/oidc/ trusting a test
// provider whose user alice is in group "engineering".
type ssoSetup struct {
	in   *servertest.Instance
	p    *oidctest.Provider
	port string
}

func newSSOSetup(t *testing.T) *ssoSetup {
	t.Helper()
	in := servertest.Start(t, servertest.Options{})
	p := oidctest.Start(t, oidctest.Options{Users: map[string]oidctest.User{
		"alice": {Password: "correct horse battery", Claims: map[string]any{"email": "alice@example.com", "groups": []string{"engineering"}}},
	}})
	port := strconv.Itoa(testport.Port(t))
	// Configure through the CLI with the commands docs/auth.md shows.
	dir := t.TempDir()
	secretFile, policyFile := filepath.Join(dir, "client-secret.txt"), filepath.Join(dir, "platform.hcl")
	if err := os.WriteFile(secretFile, []byte(p.ClientSecret()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policyFile, []byte(`path "secret/data/platform/*" { capabilities = ["read"] }`), 0o600); err != nil {
		t.Fatal(err)
	}
	admin := func(args ...string) string {
		t.Helper()
		res := runCLI(t, in.URL(), map[string]string{"COFFER_TOKEN": in.RootToken}, "", args...)
		if res.code != 0 {
			t.Fatalf("coffer %v: exit %d: %s", args, res.code, res.stderr)
		}
		return res.stdout
	}
	admin("write", "sys/auth/oidc", "type=oidc")
	admin("write", "auth/oidc/config", "oidc_discovery_url="+p.Issuer(), "oidc_client_id="+p.ClientID(),
		"oidc_client_secret=@"+secretFile, "default_role=engineers")
	admin("write", "auth/oidc/role/engineers", "user_claim=email", "groups_claim=groups", "oidc_scopes=email,groups",
		"allowed_redirect_uris=http://127.0.0.1:"+port+"/oidc/callback",
		"bound_claims_type=glob", `bound_claims={"email": "*@example.com"}`, "token_policies=default,sso", "token_ttl=8h")
	admin("policy", "write", "platform", policyFile)
	admin("write", "identity/group", "name=platform", "type=external", "policies=platform")
	var mounts struct {
		Data map[string]struct {
			Accessor string `json:"accessor"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(admin("read", "-format=json", "sys/auth")), &mounts); err != nil {
		t.Fatal(err)
	}
	groupID := strings.TrimSpace(admin("read", "-field=id", "identity/group/name/platform"))
	admin("write", "identity/group-alias", "name=engineering", "mount_accessor="+mounts.Data["oidc/"].Accessor, "canonical_id="+groupID)
	return &ssoSetup{in: in, p: p, port: port}
}

// cliRun is a CLI invocation running in the background.
type cliRun struct {
	home           string
	stdout, stderr *lockedBuffer
	done           chan int
}

// startOIDCLogin runs `coffer login -method=oidc skip_browser=true` in
// the background.
func (s *ssoSetup) startOIDCLogin(t *testing.T) *cliRun {
	return s.startOIDCLoginWith(t, nil, "skip_browser=true")
}

// startOIDCLoginWith runs `coffer login -method=oidc` with extra
// environment variables and arguments.
func (s *ssoSetup) startOIDCLoginWith(t *testing.T, extraEnv map[string]string, args ...string) *cliRun {
	t.Helper()
	r := &cliRun{home: t.TempDir(), stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan int, 1)}
	env := map[string]string{"COFFER_ADDR": s.in.URL(), "HOME": r.home}
	for k, v := range extraEnv {
		env[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	argv := append([]string{"login", "-method=oidc", "-format=json", "port=" + s.port}, args...)
	go func() {
		r.done <- run(ctx, argv, strings.NewReader(""), r.stdout, r.stderr, func(k string) string { return env[k] })
	}()
	return r
}

// authURL waits for the URL the CLI prints on stderr.
func (r *cliRun) authURL(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(r.stderr.String(), "\n") {
			if u := strings.TrimSpace(line); strings.HasPrefix(u, "http") {
				return u
			}
		}
		select {
		case code := <-r.done:
			t.Fatalf("login exited %d before printing a URL: %s", code, r.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("no auth URL on stderr: %s", r.stderr)
	return ""
}

// finish waits for the CLI and checks it got a token with the role's
// policies and stored it.
func (r *cliRun) finish(t *testing.T, s *ssoSetup) {
	t.Helper()
	select {
	case code := <-r.done:
		if code != 0 {
			t.Fatalf("login exit %d: %s", code, r.stderr)
		}
	case <-time.After(time.Minute):
		t.Fatalf("login did not finish: %s", r.stderr)
	}
	var out struct {
		Auth struct {
			ClientToken      string   `json:"client_token"`
			Policies         []string `json:"policies"`
			IdentityPolicies []string `json:"identity_policies"`
		} `json:"auth"`
	}
	if err := json.Unmarshal([]byte(r.stdout.String()), &out); err != nil {
		t.Fatalf("stdout %q: %v", r.stdout, err)
	}
	if !strings.HasPrefix(out.Auth.ClientToken, "hvs.") || !slices.Contains(out.Auth.Policies, "sso") ||
		!slices.Contains(out.Auth.IdentityPolicies, "platform") {
		t.Fatalf("auth = %+v", out.Auth)
	}
	stored, err := os.ReadFile(filepath.Join(r.home, ".coffer-token"))
	if err != nil || strings.TrimSpace(string(stored)) != out.Auth.ClientToken {
		t.Fatalf("stored token %q, %v", stored, err)
	}
	self, err := s.in.NewClient(t, out.Auth.ClientToken).Auth().Token().LookupSelf()
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := self.Data["meta"].(map[string]any); m["role"] != "engineers" {
		t.Fatalf("token meta = %v", self.Data["meta"])
	}
	s.in.CheckNoLeaks(t, out.Auth.ClientToken, s.p.ClientSecret(), "correct horse battery")
}

// TestOIDCLoginFlow plays the browser with an HTTP client: load the
// provider's form, post it, follow the redirect to the CLI's listener.
func TestOIDCLoginFlow(t *testing.T) {
	s := newSSOSetup(t)
	r := s.startOIDCLogin(t)
	playBrowser(t, s, r.authURL(t))
	r.finish(t, s)
}

// TestOIDCLoginOpensBrowser: without skip_browser the CLI starts $BROWSER
// with the URL.
func TestOIDCLoginOpensBrowser(t *testing.T) {
	s := newSSOSetup(t)
	dir := t.TempDir()
	script, opened := filepath.Join(dir, "browser.sh"), filepath.Join(dir, "opened")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$1\" > "+opened+".tmp && mv "+opened+".tmp "+opened+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	r := s.startOIDCLoginWith(t, map[string]string{"BROWSER": script})
	var authURL string
	for deadline := time.Now().Add(30 * time.Second); authURL == "" && time.Now().Before(deadline); {
		if b, err := os.ReadFile(opened); err == nil {
			authURL = strings.TrimSpace(string(b))
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if authURL == "" || !strings.Contains(r.stderr.String(), "Launching browser") {
		t.Fatalf("browser not started (stderr: %s)", r.stderr)
	}
	playBrowser(t, s, authURL)
	r.finish(t, s)
}

// playBrowser does what a browser does with authURL: load the provider's
// form, post alice's credentials, follow the redirect to the CLI.
func playBrowser(t *testing.T, s *ssoSetup, authURL string) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	form := u.Query()
	if form.Get("redirect_uri") != "http://127.0.0.1:"+s.port+"/oidc/callback" || form.Get("code_challenge_method") != "S256" {
		t.Fatalf("auth URL parameters: %v", form)
	}
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	form.Set("username", "alice")
	form.Set("password", "correct horse battery")
	resp, err = http.PostForm(s.p.Issuer()+oidctest.PathAuthorize, form)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Signed in to Coffer") {
		t.Fatalf("callback page %d: %s", resp.StatusCode, page)
	}
}
