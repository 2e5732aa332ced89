package jwt

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/oidctest"
)

const cliRedirect = "http://127.0.0.1:8250/oidc/callback"

func (h *harness) oidcSetup() {
	h.t.Helper()
	h.discoveryConfig(nil)
	h.Must(logical.UpdateOperation, "role/sso", map[string]any{
		"role_type":             "oidc",
		"user_claim":            "email",
		"groups_claim":          "groups",
		"allowed_redirect_uris": cliRedirect,
		"oidc_scopes":           "profile,email",
		"token_policies":        "eng",
	})
}

func (h *harness) authURL(role, redirect, clientNonce string) (string, error) {
	resp, err := h.Do(logical.UpdateOperation, "oidc/auth_url", map[string]any{
		"role": role, "redirect_uri": redirect, "client_nonce": clientNonce})
	if err != nil {
		return "", err
	}
	return resp.Data["auth_url"].(string), nil
}

// providerClient trusts the provider's certificate and does not follow
// redirects, so the test sees where the provider sends the browser.
func (h *harness) providerClient() *http.Client {
	tr := &http.Transport{}
	if pemCA := h.p.CACertPEM(); pemCA != "" {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM([]byte(pemCA))
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn plays the browser: it loads the form at authURL and submits it.
// It returns the redirect's query (code, state), or nil and the page.
func (h *harness) signIn(authURL, user, password string) (url.Values, string) {
	h.t.Helper()
	c := h.providerClient()
	resp, err := c.Get(authURL)
	if err != nil {
		h.t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `id="username"`) {
		h.t.Fatalf("login form: %d %s", resp.StatusCode, page)
	}
	u, _ := url.Parse(authURL)
	form := u.Query()
	form.Set("username", user)
	form.Set("password", password)
	resp, err = c.PostForm(h.p.Issuer()+oidctest.PathAuthorize, form)
	if err != nil {
		h.t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, string(page)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		h.t.Fatal(err)
	}
	return loc.Query(), ""
}

func TestOIDCFlow(t *testing.T) {
	h := newHarness(t, oidctest.Options{TLS: true})
	h.oidcSetup()
	redirect := "http://127.0.0.1:41234/oidc/callback" // loopback: any port
	authURL, err := h.authURL("sso", redirect, "client-nonce-1")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" {
		t.Fatalf("auth_url lacks PKCE or nonce: %v", q)
	}
	if q.Get("redirect_uri") != redirect || !strings.Contains(q.Get("scope"), "openid") || !strings.Contains(q.Get("scope"), "email") {
		t.Fatalf("auth_url parameters: %v", q)
	}
	back, page := h.signIn(authURL, "alice", "correct horse")
	if back == nil {
		t.Fatalf("sign-in failed: %s", page)
	}
	if back.Get("state") != q.Get("state") {
		t.Fatal("state not echoed")
	}
	cb := map[string]any{"state": back.Get("state"), "code": back.Get("code"), "client_nonce": "client-nonce-1"}
	resp, err := h.Do(logical.ReadOperation, "oidc/callback", cb)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Auth == nil || resp.Auth.Alias.Name != "alice@example.com" || resp.Auth.Policies[0] != "eng" {
		t.Fatalf("auth = %+v", resp.Auth)
	}
	if len(resp.Auth.GroupAliases) != 2 {
		t.Fatalf("group aliases = %v", resp.Auth.GroupAliases)
	}
	_, err = h.Do(logical.ReadOperation, "oidc/callback", cb)
	wantInvalid(t, err, "expired or missing OAuth state")
}

func TestOIDCFlowRejections(t *testing.T) {
	h := newHarness(t, oidctest.Options{})
	h.oidcSetup()
	h.jwtRole("machine", nil)
	start := func(t *testing.T) (string, url.Values) {
		authURL, err := h.authURL("sso", cliRedirect, "cn")
		if err != nil {
			t.Fatal(err)
		}
		back, page := h.signIn(authURL, "alice", "correct horse")
		if back == nil {
			t.Fatalf("sign-in failed: %s", page)
		}
		return authURL, back
	}
	t.Run("wrong password", func(t *testing.T) {
		authURL, err := h.authURL("sso", cliRedirect, "")
		if err != nil {
			t.Fatal(err)
		}
		back, page := h.signIn(authURL, "alice", "wrong")
		if back != nil || !strings.Contains(page, "invalid username or password") {
			t.Fatalf("wrong password accepted: %v", back)
		}
	})
	t.Run("redirect not allowed", func(t *testing.T) {
		_, err := h.authURL("sso", "https://evil.example.com/oidc/callback", "")
		wantInvalid(t, err, "unauthorized redirect_uri")
	})
	t.Run("jwt role", func(t *testing.T) {
		_, err := h.authURL("machine", cliRedirect, "")
		wantInvalid(t, err, "not an oidc role")
	})
	t.Run("wrong client nonce", func(t *testing.T) {
		_, back := start(t)
		_, err := h.Do(logical.ReadOperation, "oidc/callback", map[string]any{"state": back.Get("state"), "code": back.Get("code"), "client_nonce": "other"})
		wantInvalid(t, err, "invalid client_nonce")
	})
	t.Run("unknown state", func(t *testing.T) {
		_, back := start(t)
		_, err := h.Do(logical.ReadOperation, "oidc/callback", map[string]any{"state": "forged", "code": back.Get("code"), "client_nonce": "cn"})
		wantInvalid(t, err, "expired or missing OAuth state")
	})
	t.Run("bad code", func(t *testing.T) {
		_, back := start(t)
		_, err := h.Do(logical.UpdateOperation, "oidc/callback", map[string]any{"state": back.Get("state"), "code": "forged", "client_nonce": "cn"})
		wantInvalid(t, err, "did not accept the code")
	})
	t.Run("id_token with the wrong nonce", func(t *testing.T) {
		_, back := start(t)
		tok := h.token(map[string]any{"aud": h.p.ClientID(), "nonce": "not-ours"})
		_, err := h.Do(logical.UpdateOperation, "oidc/callback", map[string]any{"state": back.Get("state"), "id_token": tok, "client_nonce": "cn"})
		wantInvalid(t, err, "invalid nonce")
	})
	t.Run("state expired", func(t *testing.T) {
		_, back := start(t)
		h.ms.Advance(StateTTL + time.Second)
		defer func() { h.ms.Set(time.Now()) }()
		_, err := h.Do(logical.ReadOperation, "oidc/callback", map[string]any{"state": back.Get("state"), "code": back.Get("code"), "client_nonce": "cn"})
		wantInvalid(t, err, "expired or missing OAuth state")
	})
}

func TestStateStoreBound(t *testing.T) {
	now := time.Now()
	s := newStateStore(func() time.Time { return now }, time.Minute, 2)
	for range 2 {
		if _, err := s.add(&pending{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.add(&pending{}); logical.KindOf(err) != logical.KindRateLimited {
		t.Fatalf("third pending login: %v, want rate limited", err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := s.add(&pending{}); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
}

func TestValidRedirect(t *testing.T) {
	allowed := []string{"http://127.0.0.1:8250/oidc/callback", "https://app.example.com/cb", "http://localhost:8250/oidc/callback"}
	tests := []struct {
		uri string
		ok  bool
	}{
		{"http://127.0.0.1:8250/oidc/callback", true},
		{"http://127.0.0.1:9000/oidc/callback", true},
		{"http://localhost:1/oidc/callback", true},
		{"http://127.0.0.1:9000/other", false},
		{"https://127.0.0.1:8250/oidc/callback", false},
		{"https://app.example.com/cb", true},
		{"https://app.example.com:8443/cb", false},
		{"http://10.0.0.1:8250/oidc/callback", false},
	}
	for _, tc := range tests {
		t.Run(tc.uri, func(t *testing.T) {
			if got := validRedirect(tc.uri, allowed); got != tc.ok {
				t.Fatalf("validRedirect = %v, want %v", got, tc.ok)
			}
		})
	}
}
