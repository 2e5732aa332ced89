package userpass

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/logical/logicaltest"
)

func TestUserLifecycle(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "users/Alice", map[string]any{
		"password": "s3cret-pw", "token_policies": "dev,ops", "token_ttl": "1h", "token_bound_cidrs": []any{"10.0.0.0/8"},
	})
	e.Must(logical.UpdateOperation, "users/bob", map[string]any{"password": "x", "policies": []any{"a"}})

	resp := e.Must(logical.ReadOperation, "users/alice", nil)
	if got := resp.Data["token_policies"]; !slices.Equal(got.([]string), []string{"dev", "ops"}) {
		t.Errorf("token_policies = %v", got)
	}
	if got := resp.Data["policies"]; !slices.Equal(got.([]string), []string{"dev", "ops"}) {
		t.Errorf("policies = %v", got)
	}
	if got := resp.Data["token_ttl"]; got != int64(3600) {
		t.Errorf("token_ttl = %v", got)
	}
	if got := resp.Data["token_bound_cidrs"]; !slices.Equal(got.([]string), []string{"10.0.0.0/8"}) {
		t.Errorf("token_bound_cidrs = %v", got)
	}
	if _, ok := resp.Data["password"]; ok {
		t.Error("read returned the password")
	}
	raw, _ := json.Marshal(resp.Data)
	if strings.Contains(string(raw), "s3cret") || strings.Contains(string(raw), "salt") {
		t.Errorf("read leaks password material: %s", raw)
	}

	list := e.Must(logical.ListOperation, "users/", nil)
	if got := list.Data["keys"]; !slices.Equal(got.([]string), []string{"alice", "bob"}) {
		t.Errorf("list = %v", got)
	}

	// An update without a password keeps the password and changes the rest.
	e.Must(logical.UpdateOperation, "users/alice", map[string]any{"token_ttl": "2h"})
	resp = e.Must(logical.ReadOperation, "users/alice", nil)
	if got := resp.Data["token_ttl"]; got != int64(7200) {
		t.Errorf("token_ttl after update = %v", got)
	}
	if _, err := e.DoFrom("10.1.2.3", logical.UpdateOperation, "login/alice", map[string]any{"password": "s3cret-pw"}); err != nil {
		t.Errorf("login after update: %v", err)
	}

	e.Must(logical.DeleteOperation, "users/ALICE", nil)
	if resp := e.Must(logical.ReadOperation, "users/alice", nil); resp != nil {
		t.Errorf("read after delete = %v", resp.Data)
	}
	if _, err := e.Do(logical.UpdateOperation, "login/alice", map[string]any{"password": "s3cret-pw"}); err == nil {
		t.Error("login of a deleted user succeeded")
	}
}

func TestUserWriteErrors(t *testing.T) {
	tests := []struct {
		name, path string
		data       map[string]any
		want       string
	}{
		{"create without password", "users/carol", map[string]any{"token_ttl": "1h"}, "missing password"},
		{"create with empty password", "users/carol", map[string]any{"password": ""}, "missing password"},
		{"bad cidr", "users/carol", map[string]any{"password": "p", "token_bound_cidrs": "not-a-cidr"}, "token_bound_cidrs"},
		{"bad deprecated cidr", "users/carol", map[string]any{"password": "p", "bound_cidrs": "300.1.1.1"}, "bound_cidrs"},
		{"ttl above max", "users/carol", map[string]any{"password": "p", "token_ttl": "2h", "token_max_ttl": "1h"}, "exceeds"},
		{"bad token type", "users/carol", map[string]any{"password": "p", "token_type": "nope"}, "token_type"},
		{"password of unknown user", "users/nobody/password", map[string]any{"password": "p"}, "username does not exist"},
		{"policies of unknown user", "users/nobody/policies", map[string]any{"policies": "a"}, "username does not exist"},
		{"policies missing", "users/dave/policies", map[string]any{}, "missing policies"},
		{"empty new password", "users/dave/password", map[string]any{"password": ""}, "missing password"},
		{"invalid name", "users/-bad", map[string]any{"password": "p"}, "unsupported path"},
	}
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "users/dave", map[string]any{"password": "p"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Do(logical.UpdateOperation, tt.path, tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if k := logical.KindOf(err); k != logical.KindInvalidRequest && k != logical.KindUnsupportedPath {
				t.Errorf("kind = %v", k)
			}
		})
	}
	if resp := e.Must(logical.ReadOperation, "users/carol", nil); resp != nil {
		t.Errorf("a refused create stored a user: %v", resp.Data)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "users/alice", map[string]any{
		"password": "correct horse", "token_policies": "dev", "token_ttl": "30m", "token_max_ttl": "1h",
		"token_num_uses": 3, "token_bound_cidrs": "192.168.0.0/16,10.0.0.1",
	})
	tests := []struct {
		name, user, password, addr string
		wantErr                    error
	}{
		{"ok", "alice", "correct horse", "192.168.1.1", nil},
		{"ok uppercase username", "ALICE", "correct horse", "10.0.0.1", nil},
		{"wrong password", "alice", "correct horsE", "192.168.1.1", errInvalidCredentials},
		{"empty password", "alice", "", "192.168.1.1", errInvalidCredentials},
		{"unknown user", "mallory", "correct horse", "192.168.1.1", errInvalidCredentials},
		{"outside bound cidrs", "alice", "correct horse", "10.0.0.2", logical.ErrPermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.DoFrom(tt.addr, logical.UpdateOperation, "login/"+tt.user, map[string]any{"password": tt.password})
			if tt.wantErr != nil {
				if err == nil || err.Error() != tt.wantErr.Error() || logical.KindOf(err) != logical.KindOf(tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a := resp.Auth
			if a == nil {
				t.Fatal("no auth in response")
			}
			want := netip.MustParsePrefix("10.0.0.1/32")
			switch {
			case a.DisplayName != "alice", a.Metadata["username"] != "alice", a.Alias == nil || a.Alias.Name != "alice":
				t.Errorf("identity = %q %v %+v", a.DisplayName, a.Metadata, a.Alias)
			case !slices.Equal(a.Policies, []string{"dev"}):
				t.Errorf("policies = %v", a.Policies)
			case a.TTL != 30*time.Minute || a.MaxTTL != time.Hour || a.NumUses != 3:
				t.Errorf("ttl = %v max = %v uses = %d", a.TTL, a.MaxTTL, a.NumUses)
			case len(a.BoundCIDRs) != 2 || a.BoundCIDRs[1] != want:
				t.Errorf("bound cidrs = %v", a.BoundCIDRs)
			case a.ClientToken != "":
				t.Error("auth method set a client token")
			}
		})
	}
	if logs := e.Logs.String(); strings.Contains(logs, "correct horse") {
		t.Errorf("logs contain the password: %s", logs)
	}
}

func TestLoginPather(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		path       string
		wantUnauth bool
		wantUser   string
	}{
		{"login/alice", true, "alice"},
		{"login/AlIcE", true, "alice"},
		{"users/alice", false, ""},
		{"users/", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			unauth, user := e.b.LoginPath(&logical.Request{Path: tt.path})
			if unauth != tt.wantUnauth || user != tt.wantUser {
				t.Errorf("LoginPath = %v %q", unauth, user)
			}
		})
	}
}

func TestPasswordAndPolicyUpdate(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "users/alice", map[string]any{"password": "old", "token_policies": "a"})
	e.Must(logical.UpdateOperation, "users/alice/password", map[string]any{"password": "new"})
	e.Must(logical.UpdateOperation, "users/alice/policies", map[string]any{"token_policies": "b,c"})

	steps := []struct {
		password string
		ok       bool
	}{{"old", false}, {"new", true}}
	for _, st := range steps {
		t.Run(st.password, func(t *testing.T) {
			resp, err := e.Do(logical.UpdateOperation, "login/alice", map[string]any{"password": st.password})
			if (err == nil) != st.ok {
				t.Fatalf("err = %v, want ok=%v", err, st.ok)
			}
			if st.ok && !slices.Equal(resp.Auth.Policies, []string{"b", "c"}) {
				t.Errorf("policies = %v", resp.Auth.Policies)
			}
		})
	}
}

// TestConcurrentUpdates checks concurrent updates of different fields are
// all kept: each is a read-modify-write of the whole entry, serialised.
func TestConcurrentUpdates(t *testing.T) {
	e := newEnv(t)
	e.Must(logical.UpdateOperation, "users/alice", map[string]any{"password": "pw"})
	// Slow reads widen the window between reading and writing the entry.
	e.Storage = slowStorage{e.Storage}
	updates := []map[string]any{
		{"token_ttl": "1h"}, {"token_max_ttl": "2h"}, {"token_num_uses": 3}, {"token_policies": "p"},
		{"token_period": "5m"}, {"token_explicit_max_ttl": "3h"}, {"token_no_default_policy": true},
		{"token_bound_cidrs": "10.0.0.0/8"},
	}
	var wg sync.WaitGroup
	for _, u := range updates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.Do(logical.UpdateOperation, "users/alice", u); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	data := e.Must(logical.ReadOperation, "users/alice", nil).Data
	want := map[string]any{"token_ttl": int64(3600), "token_max_ttl": int64(7200), "token_num_uses": 3,
		"token_period": int64(300), "token_explicit_max_ttl": int64(10800), "token_no_default_policy": true}
	for k, v := range want {
		if data[k] != v {
			t.Errorf("%s = %v, want %v (update lost)", k, data[k], v)
		}
	}
	if len(data["token_policies"].([]string)) != 1 || len(data["token_bound_cidrs"].([]string)) != 1 {
		t.Errorf("policies %v cidrs %v (update lost)", data["token_policies"], data["token_bound_cidrs"])
	}
	if _, err := e.Do(logical.UpdateOperation, "login/alice", map[string]any{"password": "pw"}); err == nil {
		t.Error("login from 127.0.0.1 allowed outside token_bound_cidrs")
	}
}

func TestRedaction(t *testing.T) {
	h, err := hashPassword("hunter2")
	if err != nil {
		t.Fatal(err)
	}
	u := &user{Password: h}
	var buf logicaltest.LogBuffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "hash", h, "user", u)
	outputs := []string{fmt.Sprint(h), fmt.Sprintf("%v %+v %#v", h, h, h), fmt.Sprint(u), fmt.Sprintf("%+v", u), buf.String()}
	enc := fmt.Sprintf("%x", h.Hash)
	for _, out := range outputs {
		if !strings.Contains(out, "[REDACTED]") || strings.Contains(out, enc) || strings.Contains(out, fmt.Sprint(h.Salt)) {
			t.Errorf("not redacted: %s", out)
		}
	}
}

func TestFactory(t *testing.T) {
	if _, err := Factory(context.Background(), nil); err != ErrNilConfig {
		t.Errorf("nil config: %v", err)
	}
	b, err := Factory(context.Background(), &logical.BackendConfig{})
	if err != nil || b == nil {
		t.Fatalf("factory: %v", err)
	}
	_, err = b.HandleRequest(context.Background(), &logical.Request{Operation: logical.ListOperation, Path: "users/"})
	if logical.KindOf(err) != logical.KindInternal || err == nil {
		t.Errorf("request without storage: %v", err)
	}
}
