package bench_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/bench"
)

// quick is a short sweep: the tests check counts, never timings.
func quick(conc ...int) bench.Options {
	return bench.Options{Duration: 300 * time.Millisecond, Concurrency: conc}
}

// TestSweepCountMatchesServer checks that the requests the tool reports
// are the requests the server served, counted server-side.
func TestSweepCountMatchesServer(t *testing.T) {
	tests := []struct {
		workload string
		params   func(*bench.Params)
		prefix   string
		tls      bool
	}{
		{"kv-read", nil, "/v1/bench-kv-", false},
		{"kv-read", nil, "/v1/bench-kv-", true},
		{"kv-write", func(p *bench.Params) { p.PayloadBytes = 512 }, "/v1/bench-kv-", false},
		{"kv-mixed", func(p *bench.Params) { p.Keys = 20; p.ReadRatio = 0.5 }, "/v1/bench-kv-", false},
		{"token-lookup", nil, "/v1/auth/token/lookup-self", false},
	}
	for _, tt := range tests {
		name := tt.workload
		if tt.tls {
			name += "/tls"
		}
		t.Run(name, func(t *testing.T) {
			srv, api := startCounted(t, tt.tls, 0)
			p := bench.DefaultParams()
			if tt.params != nil {
				tt.params(&p)
			}
			w, err := bench.NewWorkload(tt.workload, p)
			if err != nil {
				t.Fatal(err)
			}
			setup(t, w, api)
			srv.count(tt.prefix)
			res, err := bench.Sweep(context.Background(), srv.target(t, srv.RootToken, 4), w, quick(1, 4))
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 2 || res[0].Concurrency != 1 || res[1].Concurrency != 4 {
				t.Fatalf("results = %+v, want concurrency 1 then 4", res)
			}
			reqs, errs := total(res)
			served := srv.served.Load()
			if reqs == 0 || math.Abs(float64(reqs)-float64(served)) > 0.03*float64(served) {
				t.Errorf("tool reports %d requests, server served %d", reqs, served)
			}
			if errs != 0 {
				t.Errorf("errors = %d (first: %s), want 0", errs, res[0].FirstError+res[1].FirstError)
			}
			for _, r := range res {
				if r.RequestsPerSecond <= 0 || r.P50ms <= 0 || r.P50ms > r.P99ms || r.P99ms > r.MaxMs {
					t.Errorf("inconsistent summary: %+v", r)
				}
			}
		})
	}
}

// TestSweepReportsServerErrors checks that failed requests are counted as
// errors with the server's message, whether the server itself refuses them
// or something in front of it fails them.
func TestSweepReportsServerErrors(t *testing.T) {
	tests := []struct {
		name      string
		failEvery int64
		token     func(root string) string
		wantMsg   string
	}{
		{"every request denied", 0, func(string) string { return "hvs.not-a-token" }, "403"},
		{"every 5th request fails", 5, func(root string) string { return root }, "503 injected failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, api := startCounted(t, false, tt.failEvery)
			w, err := bench.NewWorkload("kv-read", bench.DefaultParams())
			if err != nil {
				t.Fatal(err)
			}
			setup(t, w, api)
			srv.count("/v1/bench-kv-")
			res, err := bench.Sweep(context.Background(), srv.target(t, tt.token(srv.RootToken), 2), w, quick(2))
			if err != nil {
				t.Fatal(err)
			}
			reqs, errs := total(res)
			wantErrs := reqs
			if tt.failEvery > 0 {
				wantErrs = uint64(srv.failed.Load())
			}
			if errs == 0 || errs != wantErrs {
				t.Errorf("errors = %d of %d requests, want %d", errs, reqs, wantErrs)
			}
			if !strings.Contains(res[0].FirstError, tt.wantMsg) {
				t.Errorf("first error %q does not contain %q", res[0].FirstError, tt.wantMsg)
			}
		})
	}
}

// TestRunWorkloadCleansUp checks the whole run removes the mount it made.
func TestRunWorkloadCleansUp(t *testing.T) {
	srv, api := startCounted(t, false, 0)
	w, err := bench.NewWorkload("kv-read", bench.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	res, err := bench.RunWorkload(context.Background(), api, srv.target(t, srv.RootToken, 1), w, quick(1))
	if err != nil || len(res) != 1 || res[0].Requests == 0 {
		t.Fatalf("RunWorkload = %+v, %v", res, err)
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
}

// TestMissingFeatures checks that workloads whose setup the server refuses
// (here: a token that may not enable auth methods or mount engines) fail in
// setup with a clear error, and leave nothing behind.
func TestMissingFeatures(t *testing.T) {
	_, root := startCounted(t, false, 0)
	api := limitedClient(t, root, `path "auth/token/lookup-self" { capabilities = ["read"] }`)
	tests := []struct {
		workload string
		want     error
		what     string
	}{
		{"login-approle", bench.ErrAuthNotMounted, "auth method not mounted: approle"},
		{"login-userpass", bench.ErrAuthNotMounted, "auth method not mounted: userpass"},
		{"login-jwt", bench.ErrAuthNotMounted, "auth method not mounted: jwt"},
		{"transit-encrypt", bench.ErrEngineNotMounted, "secrets engine not mounted: transit"},
	}
	for _, tt := range tests {
		t.Run(tt.workload, func(t *testing.T) {
			w, err := bench.NewWorkload(tt.workload, bench.DefaultParams())
			if err != nil {
				t.Fatal(err)
			}
			err = w.Setup(context.Background(), api)
			if !errors.Is(err, tt.want) {
				t.Fatalf("setup error = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.what) || !strings.Contains(err.Error(), "permission denied") {
				t.Errorf("error %q does not contain %q and the server's reason", err, tt.what)
			}
			if err := w.Cleanup(context.Background(), api); err != nil {
				t.Errorf("cleanup after failed setup: %v", err)
			}
		})
	}
}

// TestLoginWorkloads runs each login workload against Coffer with both
// token types: every login succeeds, the tool's count matches the
// server's, and only service-token logins leave tokens in storage.
func TestLoginWorkloads(t *testing.T) {
	for _, name := range []string{"login-approle", "login-userpass", "login-jwt"} {
		for _, typ := range []string{"batch", "service"} {
			t.Run(name+"/"+typ, func(t *testing.T) {
				srv, api := startCounted(t, false, 0)
				p := bench.DefaultParams()
				p.TokenType = typ
				w, err := bench.NewWorkload(name, p)
				if err != nil {
					t.Fatal(err)
				}
				setup(t, w, api)
				srv.count("/v1/auth/bench-")
				res, err := bench.Sweep(context.Background(), srv.target(t, srv.RootToken, 2), w, quick(2))
				if err != nil {
					t.Fatal(err)
				}
				reqs, errs := total(res)
				if errs != 0 || reqs == 0 {
					t.Fatalf("%d requests, %d errors (first: %s)", reqs, errs, res[0].FirstError)
				}
				if served := uint64(srv.served.Load()); served != reqs {
					t.Errorf("tool counted %d logins, server served %d", reqs, served)
				}
				accessors, err := api.List(context.Background(), "auth/token/accessors")
				if err != nil {
					t.Fatal(err)
				}
				n := len(accessors.Data["keys"].([]any))
				if typ == "batch" && n != 1 || typ == "service" && uint64(n) != reqs+1 {
					t.Errorf("%d stored tokens after %d %s logins (root included)", n, reqs, typ)
				}
			})
		}
	}
}

func TestNewWorkload(t *testing.T) {
	tests := []struct {
		name    string
		params  func(*bench.Params)
		wantErr error
	}{
		{"kv-read", nil, nil},
		{"transit-encrypt", nil, nil},
		{"kv-nope", nil, bench.ErrUnknownWorkload},
		{"kv-mixed", func(p *bench.Params) { p.ReadRatio = 1.5 }, bench.ErrInvalidParams},
		{"kv-read", func(p *bench.Params) { p.Keys = 0 }, bench.ErrInvalidParams},
		{"kv-write", func(p *bench.Params) { p.PayloadBytes = 0 }, bench.ErrInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := bench.DefaultParams()
			if tt.params != nil {
				tt.params(&p)
			}
			w, err := bench.NewWorkload(tt.name, p)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && w.Name() != tt.name {
				t.Errorf("Name() = %q", w.Name())
			}
		})
	}
}

func TestParseConcurrency(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{"16", []int{16}, false},
		{"1,16,64", []int{1, 16, 64}, false},
		{" 1, 2 ,3 ", []int{1, 2, 3}, false},
		{"", nil, true},
		{"1,,2", nil, true},
		{"0", nil, true},
		{"-4", nil, true},
		{"4097", nil, true},
		{"1,x", nil, true},
		{"1.5", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := bench.ParseConcurrency(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, bench.ErrInvalidParams) {
				t.Errorf("err = %v, want ErrInvalidParams", err)
			}
			if !equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
