package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
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
			checkServes(t, tg, useTLS, body)
		})
	}
}

// checkServes checks that tg speaks TLS when it should and is answered
// with body.
func checkServes(t *testing.T, tg *bench.Target, useTLS bool, body []byte) {
	t.Helper()
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

// TestMain lets the test binary be a ceiling child, as `coffer bench
// ceiling-serve` is.
func TestMain(m *testing.M) {
	if os.Getenv("COFFER_BENCH_CEILING_CHILD") == "1" {
		if err := bench.ServeCeiling(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childCommand runs this test binary as a ceiling child.
func childCommand(t *testing.T) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("COFFER_BENCH_CEILING_CHILD", "1")
	return []string{exe}
}

func TestProcessCeilingServesBodyVerbatim(t *testing.T) {
	body := []byte(`{"request_id":"y","data":{"data":{"value":"w"}}}`)
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "tls"}[useTLS], func(t *testing.T) {
			p, err := bench.StartProcessCeiling(childCommand(t), body, useTLS)
			if err != nil {
				t.Fatal(err)
			}
			tg := p.Target(1)
			checkServes(t, tg, useTLS, body)
			tg.Close()
			if err := p.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			if _, err := tg.Fetch(context.Background(), bench.Op{Method: http.MethodGet, Path: "secret/data/y"}); err == nil {
				t.Fatal("the child still serves after Close")
			}
		})
	}
}

// TestProcessCeilingChildFails: a child that fails reports its stderr
// whether it read its input first or broke the pipe before it was written
// (a body larger than a pipe's buffer makes the write wait for that).
func TestProcessCeilingChildFails(t *testing.T) {
	for name, c := range map[string]struct {
		script string
		body   []byte
	}{
		"after reading": {"head -n 1 >/dev/null; echo no such ceiling >&2; exit 3", []byte("{}")},
		"broken pipe":   {"exec 0<&-; echo no such ceiling >&2; exit 3", bytes.Repeat([]byte("x"), 1<<20)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := bench.StartProcessCeiling([]string{"/bin/sh", "-c", c.script}, c.body, false)
			if err == nil || !strings.Contains(err.Error(), "no such ceiling") {
				t.Fatalf("err = %v, want the child's stderr in it", err)
			}
		})
	}
}

// TestRunWithProcessCeiling measures both ceilings and a workload: every
// result is named and each workload's ratios are its throughput over the
// ceilings' at the same concurrency.
func TestRunWithProcessCeiling(t *testing.T) {
	srv, root := startCounted(t, true, 0)
	tg := srv.target(t, srv.RootToken, 2)
	w, err := bench.NewWorkload("kv-read", bench.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	opts := quick(1, 2)
	opts.CeilingProcess = childCommand(t)
	res, err := bench.RunWithCeiling(context.Background(), root, tg, []bench.Workload{w}, bench.DefaultParams(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]bench.Result{}
	for _, r := range res {
		names = append(names, fmt.Sprintf("%s/%d", r.Workload, r.Concurrency))
		byName[names[len(names)-1]] = r
		if r.Errors != 0 || r.Requests == 0 {
			t.Errorf("%s c=%d: %d requests, %d errors (%s)", r.Workload, r.Concurrency, r.Requests, r.Errors, r.FirstError)
		}
	}
	if want := "ceiling/1 ceiling-process/1 kv-read/1 ceiling/2 ceiling-process/2 kv-read/2"; strings.Join(names, " ") != want {
		t.Fatalf("results %v, want %s", names, want)
	}
	for _, c := range []string{"1", "2"} {
		kv := byName["kv-read/"+c]
		if want := kv.RequestsPerSecond / byName["ceiling-process/"+c].RequestsPerSecond; kv.ProcessCeilingRatio != want {
			t.Errorf("c=%s: process ceiling ratio %v, want %v", c, kv.ProcessCeilingRatio, want)
		}
		if want := kv.RequestsPerSecond / byName["ceiling/"+c].RequestsPerSecond; kv.CeilingRatio != want {
			t.Errorf("c=%s: ceiling ratio %v, want %v", c, kv.CeilingRatio, want)
		}
	}
	var table bytes.Buffer
	if err := bench.WriteTable(&table, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "of process ceiling") {
		t.Errorf("table lacks the process ceiling column:\n%s", table.String())
	}
}

// FuzzServeCeiling feeds a ceiling child arbitrary input: it refuses it
// with an error and says nothing, or serves what the first line asks for,
// says where in one JSON line, and stops at the end of its input.
func FuzzServeCeiling(f *testing.F) {
	f.Add([]byte(`{"body":"e30=","tls":false}` + "\n"))
	f.Add([]byte(`{"body":null}` + "\nmore input\n"))
	f.Add([]byte("not json\n"))
	f.Add([]byte(`{"tls":true}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		if err := bench.ServeCeiling(bytes.NewReader(in), &out); err != nil {
			if out.Len() != 0 {
				t.Fatalf("refused (%v) after saying where it serves: %q", err, out.Bytes())
			}
			return
		}
		var addr struct {
			Base string `json:"base"`
		}
		if json.Unmarshal(out.Bytes(), &addr) != nil || !strings.HasPrefix(addr.Base, "http") || bytes.Count(out.Bytes(), []byte("\n")) != 1 {
			t.Fatalf("served, but said %q", out.Bytes())
		}
	})
}
