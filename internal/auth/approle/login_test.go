package approle

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestLogin(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "role/app", map[string]any{
		"token_policies": "app", "token_ttl": "10m", "token_max_ttl": "1h", "token_num_uses": 2,
		"secret_id_bound_cidrs": "10.0.0.0/8,192.168.0.0/16", "token_bound_cidrs": "10.0.0.0/8,192.168.0.0/16",
	})
	e.Must(logical.UpdateOperation, "role/other", nil)
	e.Must(logical.UpdateOperation, "role/open", map[string]any{"bind_secret_id": false, "secret_id_bound_cidrs": "172.16.0.0/12"})
	appID, otherID, openID := e.roleID("app"), e.roleID("other"), e.roleID("open")
	plain, _ := e.secretID("app", map[string]any{"metadata": `{"team":"blue"}`})
	narrow, _ := e.secretID("app", map[string]any{"cidr_list": "10.1.0.0/16", "token_bound_cidrs": "10.1.2.0/24", "num_uses": 1})
	expiring, _ := e.secretID("app", map[string]any{"ttl": "1m"})
	otherSecret, _ := e.secretID("other", nil)
	e.clock.Advance(2 * time.Minute)

	tests := []struct {
		name, addr, roleID, secret string
		wantErr                    string
		wantCIDRs                  []string
	}{
		{"ok", "10.9.9.9", appID, plain, "", []string{"10.0.0.0/8", "192.168.0.0/16"}},
		{"missing role id", "10.9.9.9", "", plain, "missing role_id", nil},
		{"missing secret id", "10.9.9.9", appID, "", "missing secret_id", nil},
		{"unknown role id", "10.9.9.9", "nope", plain, errInvalidCredentials.Error(), nil},
		{"wrong secret id", "10.9.9.9", appID, plain + "x", errInvalidCredentials.Error(), nil},
		{"other role's secret id", "10.9.9.9", appID, otherSecret, errInvalidCredentials.Error(), nil},
		{"role id of other role", "10.9.9.9", otherID, plain, errInvalidCredentials.Error(), nil},
		{"expired", "10.9.9.9", appID, expiring, errInvalidCredentials.Error(), nil},
		{"outside role cidrs", "11.0.0.1", appID, plain, errInvalidCredentials.Error(), nil},
		{"outside secret cidr_list", "10.2.0.1", appID, narrow, errInvalidCredentials.Error(), nil},
		{"narrow secret ok", "10.1.0.1", appID, narrow, "", []string{"10.1.2.0/24"}},
		{"narrow secret used up", "10.1.0.1", appID, narrow, errInvalidCredentials.Error(), nil},
		{"unbound role", "172.16.5.5", openID, "", "", []string{}},
		{"unbound role outside cidrs", "10.0.0.1", openID, "", errInvalidCredentials.Error(), nil},
		{"expired deleted on use", "10.9.9.9", appID, expiring, errInvalidCredentials.Error(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.login(tt.addr, tt.roleID, tt.secret)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || logical.KindOf(err) != logical.KindInvalidRequest {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var cidrs []string
			for _, c := range resp.Auth.BoundCIDRs {
				cidrs = append(cidrs, c.String())
			}
			if !slices.Equal(cidrs, tt.wantCIDRs) && len(cidrs)+len(tt.wantCIDRs) > 0 {
				t.Errorf("bound cidrs = %v, want %v", cidrs, tt.wantCIDRs)
			}
		})
	}
	if strings.Contains(e.Logs.String(), plain) || strings.Contains(e.Logs.String(), narrow) {
		t.Error("a secret id reached the log")
	}
}

func TestLoginAuth(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "role/app", map[string]any{
		"token_policies": "app,db", "token_ttl": "10m", "token_max_ttl": "1h", "token_num_uses": 2, "token_type": "service",
	})
	id := e.roleID("app")
	secret, _ := e.secretID("app", map[string]any{"metadata": `{"team":"blue","role_name":"spoofed"}`})
	resp, err := e.login("127.0.0.1", id, secret)
	if err != nil {
		t.Fatal(err)
	}
	a := resp.Auth
	switch {
	case a.Alias == nil || a.Alias.Name != id:
		t.Errorf("alias = %+v", a.Alias)
	case a.Metadata["role_name"] != "app" || a.Metadata["team"] != "blue" || a.Alias.Metadata["team"] != "blue":
		t.Errorf("metadata = %v alias metadata = %v", a.Metadata, a.Alias.Metadata)
	case !slices.Equal(a.Policies, []string{"app", "db"}):
		t.Errorf("policies = %v", a.Policies)
	case a.TTL != 10*time.Minute || a.MaxTTL != time.Hour || a.NumUses != 2 || a.TokenType != "service":
		t.Errorf("token settings = %+v", a)
	case a.ClientToken != "" || a.Accessor != "":
		t.Error("auth method filled in the token")
	}
}

// TestLoginNumUsesConcurrent races 20 logins on a secret ID with num_uses=5:
// exactly 5 succeed, and the secret ID is gone afterwards.
func TestLoginNumUsesConcurrent(t *testing.T) {
	for _, uses := range []int{1, 5} {
		t.Run("uses="+string(rune('0'+uses)), func(t *testing.T) {
			e := newEnv(t)
			e.Must(logical.UpdateOperation, "role/r", nil)
			id := e.roleID("r")
			secret, _ := e.secretID("r", map[string]any{"num_uses": uses})
			// Slow reads widen the window between reading and spending a
			// use, so an unserialised decrement would show.
			e.Storage = slowStorage{e.Storage}
			var ok atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if _, err := e.login("127.0.0.1", id, secret); err == nil {
						ok.Add(1)
					} else if err.Error() != errInvalidCredentials.Error() {
						t.Error(err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if got := ok.Load(); got != int32(uses) {
				t.Errorf("%d logins succeeded, want %d", got, uses)
			}
			if resp := e.Must(logical.UpdateOperation, "role/r/secret-id/lookup", map[string]any{"secret_id": secret}); resp != nil {
				t.Errorf("used-up secret id still present: %v", resp.Data)
			}
		})
	}
}

// TestLoginCIDRRefusalKeepsUses checks a refused login from outside
// cidr_list does not spend a use.
func TestLoginCIDRRefusalKeepsUses(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "role/r", nil)
	id := e.roleID("r")
	secret, _ := e.secretID("r", map[string]any{"num_uses": 2, "cidr_list": "10.0.0.0/8"})
	for range 3 {
		if _, err := e.login("11.0.0.1", id, secret); err == nil {
			t.Fatal("login from outside cidr_list succeeded")
		}
	}
	look := e.Must(logical.UpdateOperation, "role/r/secret-id/lookup", map[string]any{"secret_id": secret}).Data
	if look["secret_id_num_uses"] != 2 {
		t.Errorf("uses after refused logins = %v", look["secret_id_num_uses"])
	}
	for i, want := range []bool{true, true, false} {
		if _, err := e.login("10.0.0.1", id, secret); (err == nil) != want {
			t.Errorf("login %d: err = %v", i, err)
		}
	}
}

func TestLoginIPv6AndMapped(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "role/r", map[string]any{"secret_id_bound_cidrs": "10.0.0.0/8,fd00::/8"})
	id := e.roleID("r")
	secret, _ := e.secretID("r", nil)
	tests := []struct {
		addr string
		ok   bool
	}{{"::ffff:10.1.1.1", true}, {"fd12::1", true}, {"fe80::1", false}, {"", false}, {"garbage", false}}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if _, err := e.login(tt.addr, id, secret); (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	if !within(netip.MustParsePrefix("fd00:1::/32"), []netip.Prefix{netip.MustParsePrefix("fd00::/8")}) {
		t.Error("within: v6 subnet not within its parent")
	}
}
