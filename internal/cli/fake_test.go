package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const fakeToken = "hvs.FakeT0kenForTests"

// reply is a canned answer of the fake server.
type reply struct {
	status int
	body   string
}

// fakeServer answers requests from a table keyed by "METHOD /v1/path" (LIST
// for list=true, other query parameters after "?") and records each request
// as "METHOD /v1/path[?query] body". Unknown requests get a 404.
type fakeServer struct {
	t      *testing.T
	routes map[string]reply
	mu     sync.Mutex
	got    []string
}

func newFakeServer(t *testing.T, routes map[string]reply) (*fakeServer, *httptest.Server) {
	t.Helper()
	fs := &fakeServer{t: t, routes: routes}
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	return fs, srv
}

func (fs *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	method := r.Method
	q := r.URL.Query()
	if q.Get("list") == "true" {
		method = "LIST"
		q.Del("list")
	}
	key := method + " " + r.URL.Path
	if len(q) > 0 {
		key += "?" + q.Encode()
	}
	if tok := r.Header.Get("X-Vault-Token"); tok != fakeToken && tok != "" && !strings.HasPrefix(tok, "hvs.") {
		fs.t.Errorf("unexpected token header %q", tok)
	}
	fs.mu.Lock()
	fs.got = append(fs.got, strings.TrimSpace(key+" "+compactJSON(body)))
	fs.mu.Unlock()
	rep, ok := fs.routes[key]
	if !ok {
		rep = reply{status: 404, body: `{"errors":[]}`}
	}
	if rep.status == 0 {
		rep.status = 200
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (fs *fakeServer) requests() []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]string(nil), fs.got...)
}

// compactJSON normalises a JSON body (sorted keys) for comparisons.
func compactJSON(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return string(b)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// runResult is what one CLI invocation produced.
type runResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command line with a test environment pointing at addr.
func runCLI(t *testing.T, addr string, env map[string]string, stdin string, args ...string) runResult {
	t.Helper()
	full := map[string]string{"COFFER_ADDR": addr, "COFFER_TOKEN": fakeToken, "HOME": t.TempDir()}
	for k, v := range env {
		full[k] = v
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr,
		func(k string) string { return full[k] })
	return runResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// checkGolden compares got with testdata/golden/name, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func jsonNumber(s string) json.Number { return json.Number(s) }
