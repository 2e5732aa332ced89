package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// netFixture is a test server whose listener has network rules, with
// clients bound to several loopback source addresses.
type netFixture struct {
	in        *servertest.Instance
	blocklist string
	auditLog  string
}

// startNet starts a server that allows 127.0.0.1-4 and two documentation
// networks, trusts 127.0.0.3 as a proxy, limits sys/ to 127.0.0.1 and
// 203.0.113.7, and bans an address after three failed logins for a second.
func startNet(t *testing.T, reload time.Duration) *netFixture {
	t.Helper()
	dir := t.TempDir()
	f := &netFixture{blocklist: filepath.Join(dir, "block.netset"), auditLog: filepath.Join(dir, "audit.log")}
	if err := os.WriteFile(f.blocklist, []byte("# nothing yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.DevConfig("127.0.0.1:0")
	l := &cfg.Listeners[0]
	l.AllowedCIDRs = pfx(t, "127.0.0.1/32", "127.0.0.2/31", "127.0.0.4/32", "203.0.113.0/24", "198.51.100.0/24")
	l.XForwardedForAuthorizedAddrs = pfx(t, "127.0.0.3/32")
	l.XForwardedForRejectNotAuthorized, l.XForwardedForRejectNotPresent = false, false
	l.PathRules = []config.PathRule{{Prefix: "sys/*", AllowedCIDRs: pfx(t, "127.0.0.1/32", "203.0.113.7/32")}}
	cfg.Network = config.Network{BlocklistFile: f.blocklist, BlocklistReloadInterval: reload,
		BanThreshold: 3, BanWindow: time.Minute, BanDuration: time.Second}
	cfg.UserLockouts = []config.UserLockout{{AuthType: "userpass", Threshold: 2, Duration: time.Hour, CounterReset: time.Hour}}
	cfg.Audit = []config.Audit{{Type: "file", Name: "file", Options: map[string]string{"path": f.auditLog}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	f.in = servertest.Start(t, servertest.Options{Config: cfg})
	return f
}

func pfx(t *testing.T, s ...string) []netip.Prefix {
	t.Helper()
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

// reply is one HTTP answer.
type reply struct {
	status int
	body   string
	header http.Header
}

// do sends a request from the loopback source address src.
func (f *netFixture) do(t *testing.T, src, method, path, body string, hdr map[string]string) reply {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(context.Background(), method, f.in.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", f.in.RootToken)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s from %s: %v", method, path, src, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: string(b), header: resp.Header}
}

// expect checks a reply's status, and for 403 that the body is exactly
// Vault's permission-denied body.
func expect(t *testing.T, what string, r reply, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d (%s), want %d", what, r.status, r.body, status)
	}
	if status == http.StatusForbidden && strings.TrimSpace(r.body) != `{"errors":["permission denied"]}` {
		t.Fatalf("%s: 403 body %q reveals more than permission denied", what, r.body)
	}
}

// waitStatus polls until a request answers with status.
func waitStatus(t *testing.T, f *netFixture, src, path string, status int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := f.do(t, src, "GET", path, "", nil)
		if r.status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s from %s: still %d after 10s, want %d", path, src, r.status, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNetworkAddressRules(t *testing.T) {
	f := startNet(t, time.Hour)
	expect(t, "write from 127.0.0.2", f.do(t, "127.0.0.2", "POST", "/v1/secret/data/app", `{"data":{"k":"v"}}`, nil), http.StatusOK)
	for _, tc := range []struct {
		name, src, path string
		hdr             map[string]string
		status          int
	}{
		{"admin address on sys", "127.0.0.1", "/v1/sys/mounts", nil, http.StatusOK},
		{"other address on sys", "127.0.0.2", "/v1/sys/mounts", nil, http.StatusForbidden},
		{"other address on a missing sys path", "127.0.0.2", "/v1/sys/no-such-thing", nil, http.StatusForbidden},
		{"dot segments do not dodge the rule", "127.0.0.2", "/v1/secret/../sys/mounts", nil, http.StatusForbidden},
		{"other address on secret", "127.0.0.2", "/v1/secret/data/app", nil, http.StatusOK},
		{"address outside allowed_cidrs", "127.0.0.5", "/v1/secret/data/app", nil, http.StatusForbidden},
		{"health is not exempt from allowed_cidrs", "127.0.0.5", "/v1/sys/health", nil, http.StatusForbidden},
		{"proxy forwards an allowed admin", "127.0.0.3", "/v1/sys/mounts", map[string]string{"X-Forwarded-For": "203.0.113.7"}, http.StatusOK},
		{"proxy forwards a denied client", "127.0.0.3", "/v1/sys/mounts", map[string]string{"X-Forwarded-For": "198.51.100.9"}, http.StatusForbidden},
		{"proxy forwards a client outside allowed_cidrs", "127.0.0.3", "/v1/secret/data/app", map[string]string{"X-Forwarded-For": "192.0.2.1"}, http.StatusForbidden},
		{"rightmost forwarded address counts", "127.0.0.3", "/v1/sys/mounts", map[string]string{"X-Forwarded-For": "203.0.113.7, 198.51.100.9"}, http.StatusForbidden},
		{"spoofed header from an untrusted peer is ignored", "127.0.0.2", "/v1/sys/mounts", map[string]string{"X-Forwarded-For": "203.0.113.7"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, tc.name, f.do(t, tc.src, "GET", tc.path, "", tc.hdr), tc.status)
		})
	}
	// Audit entries carry the resolved client address, denials included.
	audit, err := os.ReadFile(f.auditLog)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"remote_address":"203.0.113.7"`, `"remote_address":"198.51.100.9"`, `"remote_address":"127.0.0.5"`} {
		if !strings.Contains(string(audit), want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	if strings.Contains(string(audit), `"remote_address":"127.0.0.3"`) {
		t.Error("audit log recorded the proxy instead of the forwarded client")
	}
}

func TestNetworkRejectForwardedFor(t *testing.T) {
	cfg := config.DevConfig("127.0.0.1:0")
	cfg.Listeners[0].XForwardedForAuthorizedAddrs = pfx(t, "127.0.0.3/32")
	cfg.Listeners[0].XForwardedForRejectNotPresent = false // Vault's default true would refuse the fixture's own setup
	f := &netFixture{in: servertest.Start(t, servertest.Options{Config: cfg})}
	r := f.do(t, "127.0.0.2", "GET", "/v1/sys/health", "", map[string]string{"X-Forwarded-For": "203.0.113.7"})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "not authorized for x-forwarded-for") {
		t.Fatalf("spoofed header with reject_not_authorized: %d %s, want 400", r.status, r.body)
	}
	expect(t, "no header", f.do(t, "127.0.0.2", "GET", "/v1/sys/health", "", nil), http.StatusOK)
}

func TestNetworkRateLimit(t *testing.T) {
	f := startNet(t, time.Hour)
	expect(t, "create quota", f.do(t, "127.0.0.1", "POST", "/v1/sys/quotas/rate-limit/kv",
		`{"path":"secret/","rate":2,"interval":"10s","role":"ignored"}`, nil), http.StatusOK)
	expect(t, "headers on", f.do(t, "127.0.0.1", "POST", "/v1/sys/quotas/config", `{"enable_rate_limit_response_headers":true}`, nil), http.StatusNoContent)
	r := f.do(t, "127.0.0.1", "GET", "/v1/sys/quotas/rate-limit/kv", "", nil)
	var q struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.body), &q); err != nil || q.Data["rate"] != 2.0 || q.Data["interval"] != 10.0 || q.Data["path"] != "secret/" {
		t.Fatalf("read quota: %d %s", r.status, r.body)
	}
	expect(t, "list quotas", f.do(t, "127.0.0.1", "LIST", "/v1/sys/quotas/rate-limit", "", nil), http.StatusOK)
	for i := range 2 {
		r := f.do(t, "127.0.0.4", "GET", "/v1/secret/data/none", "", nil)
		expect(t, "within quota", r, http.StatusNotFound)
		if r.header.Get("X-Ratelimit-Limit") != "2" || r.header.Get("X-Ratelimit-Remaining") != strconv.Itoa(1-i) {
			t.Errorf("rate-limit headers %v", r.header)
		}
	}
	r = f.do(t, "127.0.0.4", "GET", "/v1/secret/data/none", "", nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "rate limit quota exceeded") {
		t.Fatalf("over quota: %d %v %s", r.status, r.header, r.body)
	}
	expect(t, "another client is not limited", f.do(t, "127.0.0.2", "GET", "/v1/secret/data/none", "", nil), http.StatusNotFound)
	expect(t, "another path is not limited", f.do(t, "127.0.0.4", "GET", "/v1/cubbyhole/none", "", nil), http.StatusNotFound)
	expect(t, "global quota", f.do(t, "127.0.0.1", "POST", "/v1/sys/quotas/rate-limit/all", `{"rate":1,"interval":"1h"}`, nil), http.StatusNoContent)
	for range 3 {
		expect(t, "health is exempt from quotas", f.do(t, "127.0.0.1", "GET", "/v1/sys/health", "", nil), http.StatusOK)
	}
	expect(t, "drop global quota", f.do(t, "127.0.0.1", "DELETE", "/v1/sys/quotas/rate-limit/all", "", nil), http.StatusNoContent)
	waitStatus(t, f, "127.0.0.4", "/v1/secret/data/none", http.StatusNotFound) // recovery once a token refilled
	expect(t, "bad rate", f.do(t, "127.0.0.1", "POST", "/v1/sys/quotas/rate-limit/bad", `{"rate":0}`, nil), http.StatusBadRequest)
	audit, _ := os.ReadFile(f.auditLog)
	if !strings.Contains(string(audit), `"status":429`) && !strings.Contains(string(audit), "rate limit quota exceeded") {
		t.Error("the 429 was not audited")
	}
}

// enableUserpass mounts userpass with users alice, bob and carol.
func enableUserpass(t *testing.T, f *netFixture) {
	t.Helper()
	expect(t, "enable userpass", f.do(t, "127.0.0.1", "POST", "/v1/sys/auth/userpass", `{"type":"userpass"}`, nil), http.StatusNoContent)
	for _, u := range []string{"alice", "bob", "carol"} {
		r := f.do(t, "127.0.0.1", "POST", "/v1/auth/userpass/users/"+u, `{"password":"right-`+u+`"}`, nil)
		if r.status/100 != 2 {
			t.Fatalf("create user %s: %d %s", u, r.status, r.body)
		}
	}
}

func login(t *testing.T, f *netFixture, src, user, password string) reply {
	t.Helper()
	return f.do(t, src, "POST", "/v1/auth/userpass/login/"+user, `{"password":"`+password+`"}`, map[string]string{"X-Vault-Token": ""})
}

func TestNetworkBanAfterFailedLogins(t *testing.T) {
	f := startNet(t, time.Hour)
	enableUserpass(t, f)
	for _, u := range []string{"alice", "bob", "carol"} {
		if r := login(t, f, "127.0.0.2", u, "wrong"); r.status == http.StatusOK {
			t.Fatalf("wrong password accepted for %s", u)
		}
	}
	expect(t, "banned address", f.do(t, "127.0.0.2", "GET", "/v1/secret/data/none", "", nil), http.StatusForbidden)
	expect(t, "banned address logging in", login(t, f, "127.0.0.2", "alice", "right-alice"), http.StatusForbidden)
	expect(t, "other address", login(t, f, "127.0.0.4", "alice", "right-alice"), http.StatusOK)
	r := f.do(t, "127.0.0.1", "GET", "/v1/sys/network/bans", "", nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, `"ip":"127.0.0.2"`) {
		t.Fatalf("bans: %d %s", r.status, r.body)
	}
	expect(t, "lift ban", f.do(t, "127.0.0.1", "DELETE", "/v1/sys/network/bans/127.0.0.2", "", nil), http.StatusNoContent)
	expect(t, "after lifting", login(t, f, "127.0.0.2", "alice", "right-alice"), http.StatusOK)
	for _, u := range []string{"alice", "bob", "carol"} {
		login(t, f, "127.0.0.2", u, "wrong")
	}
	expect(t, "banned again", f.do(t, "127.0.0.2", "GET", "/v1/secret/data/none", "", nil), http.StatusForbidden)
	waitStatus(t, f, "127.0.0.2", "/v1/secret/data/none", http.StatusNotFound) // the one-second ban expires
}

func TestNetworkUserLockout(t *testing.T) {
	f := startNet(t, time.Hour)
	enableUserpass(t, f)
	for range 2 {
		login(t, f, "127.0.0.4", "bob", "wrong")
	}
	expect(t, "locked user, right password", login(t, f, "127.0.0.4", "bob", "right-bob"), http.StatusForbidden)
	expect(t, "same user from another address", login(t, f, "127.0.0.2", "bob", "right-bob"), http.StatusOK)
	r := f.do(t, "127.0.0.1", "GET", "/v1/sys/locked-users", "", nil)
	var lu struct {
		Data struct {
			Total       int `json:"total"`
			ByNamespace []struct {
				MountAccessors []struct {
					MountAccessor    string   `json:"mount_accessor"`
					AliasIdentifiers []string `json:"alias_identifiers"`
				} `json:"mount_accessors"`
			} `json:"by_namespace"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.body), &lu); err != nil || lu.Data.Total != 1 || len(lu.Data.ByNamespace) != 1 ||
		len(lu.Data.ByNamespace[0].MountAccessors) != 1 || lu.Data.ByNamespace[0].MountAccessors[0].AliasIdentifiers[0] != "bob" {
		t.Fatalf("locked users: %d %s", r.status, r.body)
	}
	acc := lu.Data.ByNamespace[0].MountAccessors[0].MountAccessor
	expect(t, "unlock", f.do(t, "127.0.0.1", "POST", "/v1/sys/locked-users/"+acc+"/unlock/bob", "", nil), http.StatusNoContent)
	expect(t, "after unlock", login(t, f, "127.0.0.4", "bob", "right-bob"), http.StatusOK)
}

func TestNetworkBlocklistReload(t *testing.T) {
	f := startNet(t, 50*time.Millisecond)
	expect(t, "before", f.do(t, "127.0.0.2", "GET", "/v1/secret/data/none", "", nil), http.StatusNotFound)
	write := func(s string) {
		if err := os.WriteFile(f.blocklist, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("# FireHOL-style list\n192.0.2.0/24\n127.0.0.2 ; listed\nnot-an-address\n")
	waitStatus(t, f, "127.0.0.2", "/v1/secret/data/none", http.StatusForbidden)
	expect(t, "health is not exempt from the blocklist", f.do(t, "127.0.0.2", "GET", "/v1/sys/health", "", nil), http.StatusForbidden)
	expect(t, "unlisted address", f.do(t, "127.0.0.4", "GET", "/v1/secret/data/none", "", nil), http.StatusNotFound)
	write("# FireHOL-style list\n192.0.2.0/24\n")
	waitStatus(t, f, "127.0.0.2", "/v1/secret/data/none", http.StatusNotFound)
	if !strings.Contains(f.in.Logs(), "blocklist line skipped") {
		t.Error("the bad blocklist line was not logged")
	}
}

func TestNetworkBlocklistSIGHUP(t *testing.T) {
	f := startNet(t, time.Hour) // no poll during the test: only Reload applies the change
	if err := os.WriteFile(f.blocklist, []byte("127.0.0.4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, "before reload", f.do(t, "127.0.0.4", "GET", "/v1/secret/data/none", "", nil), http.StatusNotFound)
	f.in.Server.Reload()
	expect(t, "after reload", f.do(t, "127.0.0.4", "GET", "/v1/secret/data/none", "", nil), http.StatusForbidden)
}
