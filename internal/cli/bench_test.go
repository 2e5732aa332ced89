package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/server/servertest"
)

func TestBenchCommand(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	// A token that may mount KV engines for the bench but not enable auth
	// methods.
	if err := in.Client.Sys().PutPolicy("bench-kv", `path "sys/mounts/bench-*" { capabilities = ["create", "update", "delete", "read"] }
path "bench-*" { capabilities = ["create", "read", "update", "delete", "list"] }`); err != nil {
		t.Fatal(err)
	}
	limited, err := in.Client.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{"bench-kv"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		check    func(t *testing.T, stdout, stderr string)
		token    string
	}{
		{"json per workload and concurrency",
			[]string{"bench", "-duration=200ms", "-warmup=50ms", "-concurrency=1,2", "-format=json", "kv-read", "token-lookup"}, 0,
			func(t *testing.T, stdout, _ string) {
				var got []map[string]any
				if err := json.Unmarshal([]byte(stdout), &got); err != nil {
					t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
				}
				if len(got) != 4 {
					t.Fatalf("%d objects, want 4 (2 workloads x 2 concurrencies)", len(got))
				}
				for _, o := range got {
					if rps, _ := o["requests_per_second"].(float64); rps <= 0 || o["errors"] != 0.0 {
						t.Errorf("object %v: want requests_per_second > 0 and no errors", o)
					}
				}
			}, ""},
		{"ceiling table",
			[]string{"bench", "ceiling", "-duration=100ms", "-warmup=0s", "-concurrency=2", "-repeat=2"}, 0,
			func(t *testing.T, stdout, _ string) {
				for _, want := range []string{"ceiling", "kv-read", "of ceiling", "%"} {
					if !strings.Contains(stdout, want) {
						t.Errorf("stdout lacks %q:\n%s", want, stdout)
					}
				}
			}, ""},
		{"auth method the token may not enable fails clearly",
			[]string{"bench", "-duration=100ms", "-warmup=0s", "-concurrency=1", "login-userpass", "kv-write"}, 1,
			func(t *testing.T, stdout, stderr string) {
				if !strings.Contains(stderr, "auth method not mounted: userpass") {
					t.Errorf("stderr lacks the auth method error:\n%s", stderr)
				}
				if !strings.Contains(stdout, "kv-write") {
					t.Errorf("the other workload did not run:\n%s", stdout)
				}
			}, limited.Auth.ClientToken},
		{"login workloads with service tokens",
			[]string{"bench", "-duration=100ms", "-warmup=0s", "-concurrency=1", "-token-type=service", "login-userpass", "login-jwt"}, 0,
			func(t *testing.T, stdout, stderr string) {
				for _, w := range []string{"login-userpass", "login-jwt"} {
					if !strings.Contains(stdout, w) {
						t.Errorf("stdout lacks %s:\n%s", w, stdout)
					}
				}
			}, ""},
		{"bad concurrency list", []string{"bench", "-concurrency=1,0"}, exitUsage, nil, ""},
		{"bad repeat", []string{"bench", "-repeat=0"}, exitUsage, nil, ""},
		{"unknown workload", []string{"bench", "kv-nope"}, exitUsage, nil, ""},
		{"yaml is not a bench format", []string{"bench", "-format=yaml"}, exitUsage, nil, ""},
		{"header without a colon", []string{"bench", "-header", "X-Coffer-Consistency stale"}, exitUsage,
			func(t *testing.T, _, stderr string) {
				if !strings.Contains(stderr, "invalid header") {
					t.Errorf("stderr lacks the header error:\n%s", stderr)
				}
			}, ""},
		{"header the bench sets itself", []string{"bench", "-header", "X-Vault-Token: x"}, exitUsage, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"COFFER_ADDR": in.URL(), "VAULT_TOKEN": in.RootToken}
			if tt.token != "" {
				env["VAULT_TOKEN"] = tt.token
			}
			getenv := func(k string) string { return env[k] }
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &stdout, &stderr, getenv)
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if tt.check != nil {
				tt.check(t, stdout.String(), stderr.String())
			}
		})
	}
	in.CheckNoLeaks(t, in.RootToken)
}

// TestBenchHeader runs token-lookup with -header against a server that
// records what it receives: every measured request carries each header
// with all its values; the setup and cleanup requests do not.
func TestBenchHeader(t *testing.T) {
	var (
		mu              sync.Mutex
		lookups, others []http.Header
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/v1/auth/token/lookup-self":
			lookups = append(lookups, r.Header.Clone())
		case "/v1/auth/token/create":
			others = append(others, r.Header.Clone())
			_, _ = w.Write([]byte(`{"auth":{"client_token":"hvs.bench"}}`))
			return
		default:
			others = append(others, r.Header.Clone())
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"COFFER_ADDR": srv.URL, "COFFER_TOKEN": "root"}
	args := []string{"bench", "-duration=100ms", "-warmup=0s", "-concurrency=2", "-format=json",
		"-header", "X-Coffer-Consistency: stale", "-header", "x-bench-tag: a, b", "--header=X-Bench-Tag:c", "token-lookup"}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr, func(k string) string { return env[k] }); code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lookups) == 0 || len(others) != 2 {
		t.Fatalf("server saw %d lookups and %d setup/cleanup requests, want some and 2", len(lookups), len(others))
	}
	for i, h := range lookups {
		if !slices.Equal(h["X-Coffer-Consistency"], []string{"stale"}) || !slices.Equal(h["X-Bench-Tag"], []string{"a, b", "c"}) {
			t.Fatalf("lookup %d headers: consistency %q, tag %q", i, h["X-Coffer-Consistency"], h["X-Bench-Tag"])
		}
		if h.Get("X-Vault-Token") != "hvs.bench" {
			t.Fatalf("lookup %d sent token %q, want the workload's", i, h.Get("X-Vault-Token"))
		}
	}
	for i, h := range others {
		if h.Get("X-Coffer-Consistency") != "" || h.Get("X-Bench-Tag") != "" {
			t.Errorf("setup/cleanup request %d carried the extra headers: %v", i, h)
		}
	}
}
