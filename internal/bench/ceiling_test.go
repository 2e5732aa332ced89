package bench_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/bench"
)

func TestCeilingServesBodyVerbatim(t *testing.T) {
	body := []byte(`{"request_id":"x","data":{"data":{"value":"v"}}}`)
	for _, useTLS := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "tls"}[useTLS]
		t.Run(name, func(t *testing.T) {
			c, err := bench.StartCeiling(body, useTLS)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			tg := c.Target(1)
			t.Cleanup(tg.Close)
			if tg.TLS() != useTLS {
				t.Errorf("TLS() = %v, want %v", tg.TLS(), useTLS)
			}
			got, err := tg.Fetch(context.Background(), bench.Op{Method: http.MethodGet, Path: "secret/data/x"})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, body) {
				t.Errorf("body = %q, want %q", got, body)
			}
		})
	}
}

// TestRunWithCeiling runs the ceiling, with a real KV v2 read's bytes, and
// two workloads interleaved; the ceiling's requests never reach the server.
func TestRunWithCeiling(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "tls"}[useTLS]
		t.Run(name, func(t *testing.T) {
			srv, root := startCounted(t, useTLS, 0)
			// The setup token may mount KV engines and create tokens, but not
			// enable auth methods.
			api := limitedClient(t, root, `path "auth/token/create" { capabilities = ["update"] }
path "auth/token/revoke" { capabilities = ["update"] }
path "sys/mounts" { capabilities = ["read"] }
path "sys/mounts/bench-*" { capabilities = ["create", "update", "delete", "read"] }
path "bench-*" { capabilities = ["create", "read", "update", "delete", "list"] }`)
			tg := srv.target(t, srv.RootToken, 2)
			srv.count("/v1/auth/token/lookup-self")
			var ws []bench.Workload
			for _, n := range []string{"token-lookup", "login-userpass"} {
				w, err := bench.NewWorkload(n, bench.DefaultParams())
				if err != nil {
					t.Fatal(err)
				}
				ws = append(ws, w)
			}
			res, err := bench.RunWithCeiling(context.Background(), api, tg, ws, bench.DefaultParams(), quick(1, 2))
			if !errors.Is(err, bench.ErrAuthNotMounted) {
				t.Errorf("err = %v, want the userpass setup error", err)
			}
			var names []string
			for _, r := range res {
				names = append(names, fmt.Sprintf("%s/%d", r.Workload, r.Concurrency))
				if r.Errors != 0 || r.Requests == 0 {
					t.Errorf("%s c=%d: %d requests, %d errors (%s)", r.Workload, r.Concurrency, r.Requests, r.Errors, r.FirstError)
				}
				if r.Workload == "token-lookup" && r.CeilingRatio <= 0 {
					t.Errorf("token-lookup c=%d has no ceiling ratio", r.Concurrency)
				}
			}
			if want := "ceiling/1 token-lookup/1 ceiling/2 token-lookup/2"; strings.Join(names, " ") != want {
				t.Errorf("results %v, want %s", names, want)
			}
			reqs := res[1].Requests + res[3].Requests
			if served := srv.served.Load(); uint64(served) != reqs {
				t.Errorf("server served %d lookups, tool reports %d", served, reqs)
			}
			mounts, err := api.Read(context.Background(), "sys/mounts", nil)
			if err != nil {
				t.Fatal(err)
			}
			for k := range mounts.Data {
				if strings.HasPrefix(k, "bench-") {
					t.Errorf("mount %s left behind", k)
				}
			}
		})
	}
}

func TestApplyCeiling(t *testing.T) {
	results := []bench.Result{
		{Workload: "kv-read", Concurrency: 1, RequestsPerSecond: 50},
		{Workload: "kv-read", Concurrency: 16, RequestsPerSecond: 300},
		{Workload: "kv-read", Concurrency: 64, RequestsPerSecond: 300},
	}
	ceiling := []bench.Result{
		{Workload: "ceiling", Concurrency: 1, RequestsPerSecond: 100},
		{Workload: "ceiling", Concurrency: 16, RequestsPerSecond: 400},
	}
	bench.ApplyCeiling(results, ceiling)
	want := []float64{0.5, 0.75, 0}
	for i, r := range results {
		if r.CeilingRatio != want[i] {
			t.Errorf("c=%d: ratio %v, want %v", r.Concurrency, r.CeilingRatio, want[i])
		}
	}
}
