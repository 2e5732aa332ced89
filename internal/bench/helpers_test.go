package bench_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cofferdev/coffer/internal/apiclient"
	"github.com/cofferdev/coffer/internal/bench"
	"github.com/cofferdev/coffer/internal/httpapi"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// counted is an in-process Coffer whose HTTP handler counts the requests
// it serves under a path prefix, and can fail every n-th of them.
type counted struct {
	URL, RootToken string
	prefix         atomic.Pointer[string]
	served         atomic.Int64
	failed         atomic.Int64
	failEvery      int64
}

// startCounted starts a Coffer server and serves its API handler through a
// counting wrapper on an httptest server (TLS when useTLS).
func startCounted(t testing.TB, useTLS bool, failEvery int64) (*counted, *apiclient.Client) {
	t.Helper()
	in := servertest.Start(t, servertest.Options{})
	c := &counted{RootToken: in.RootToken, failEvery: failEvery}
	empty := "\x00"
	c.prefix.Store(&empty)
	api := httpapi.New(in.Server.Core, httpapi.Options{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, *c.prefix.Load()) {
			n := c.served.Add(1)
			if c.failEvery > 0 && n%c.failEvery == 0 {
				c.failed.Add(1)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"errors":["injected failure"]}`))
				return
			}
		}
		api.ServeHTTP(w, r)
	})
	var srv *httptest.Server
	if useTLS {
		srv = httptest.NewUnstartedServer(h)
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	cl, err := apiclient.New(apiclient.Config{Address: srv.URL, Token: in.RootToken, TLSSkipVerify: useTLS})
	if err != nil {
		t.Fatal(err)
	}
	return c, cl
}

// count starts counting requests under prefix from zero.
func (c *counted) count(prefix string) {
	c.served.Store(0)
	c.failed.Store(0)
	c.prefix.Store(&prefix)
}

func (c *counted) target(t testing.TB, token string, maxConns int) *bench.Target {
	t.Helper()
	tg, err := bench.NewTarget(apiclient.Config{Address: c.URL, Token: token, TLSSkipVerify: strings.HasPrefix(c.URL, "https")}, maxConns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tg.Close)
	return tg
}

// setup runs w.Setup and registers its Cleanup.
func setup(t *testing.T, w bench.Workload, api *apiclient.Client) {
	t.Helper()
	if err := w.Setup(context.Background(), api); err != nil {
		t.Fatalf("%s setup: %v", w.Name(), err)
	}
	t.Cleanup(func() {
		if err := w.Cleanup(context.Background(), api); err != nil {
			t.Errorf("%s cleanup: %v", w.Name(), err)
		}
	})
}

func total(results []bench.Result) (requests, errors uint64) {
	for _, r := range results {
		requests += r.Requests
		errors += r.Errors
	}
	return requests, errors
}

// limitedClient returns a client whose token holds only the given policy.
func limitedClient(t testing.TB, root *apiclient.Client, policy string) *apiclient.Client {
	t.Helper()
	ctx := context.Background()
	if _, err := root.Write(ctx, "sys/policies/acl/bench-limited", map[string]any{"policy": policy}); err != nil {
		t.Fatal(err)
	}
	s, err := root.Write(ctx, "auth/token/create", map[string]any{"policies": []string{"bench-limited"}})
	if err != nil {
		t.Fatal(err)
	}
	return root.WithToken(s.Auth.ClientToken)
}
