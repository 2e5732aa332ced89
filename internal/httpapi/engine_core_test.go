package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/core"
	"github.com/cofferdev/coffer/internal/httpapi"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/server"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// engineFunc is an engine whose every request runs f.
type engineFunc func(ctx context.Context, req *logical.Request) (*logical.Response, error)

func (f engineFunc) HandleRequest(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	return f(ctx, req)
}

// coreWithEngine is an unsealed core with b mounted at "e/"; it returns
// the core and the root token.
func coreWithEngine(t *testing.T, b logical.Backend) (*core.Core, string) {
	t.Helper()
	ctx := context.Background()
	factories := server.Factories()
	factories["test-engine"] = func(context.Context, *logical.BackendConfig) (logical.Backend, error) { return b, nil }
	c, err := core.New(core.Config{Physical: inmem.New(), Factories: factories, AuthFactories: server.AuthFactories()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Initialize(ctx, core.InitParams{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Unseal(ctx, res.Keys[0]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Seal(ctx) })
	if _, err := c.HandleRequest(ctx, &logical.Request{Operation: logical.UpdateOperation, Path: "sys/mounts/e",
		ClientToken: res.RootToken, Data: map[string]any{"type": "test-engine"}}); err != nil {
		t.Fatalf("mount: %v", err)
	}
	return c, res.RootToken
}

func get(h http.Handler, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("X-Vault-Token", token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestMaxRequestDurationEndsABlockedRequest: a request that blocks on its
// context is cut off at max_request_duration, with DeadlineExceeded, and the
// client gets an error rather than a response.
func TestMaxRequestDurationEndsABlockedRequest(t *testing.T) {
	ended := make(chan error, 1)
	c, root := coreWithEngine(t, engineFunc(func(ctx context.Context, _ *logical.Request) (*logical.Response, error) {
		select {
		case <-ctx.Done():
			ended <- ctx.Err()
			return nil, ctx.Err()
		case <-time.After(30 * time.Second):
			ended <- errors.New("the request's context never ended")
			return &logical.Response{Data: map[string]any{"waited": true}}, nil
		}
	}))
	h := httpapi.New(c, httpapi.Options{MaxRequestDuration: 50 * time.Millisecond})
	rec := get(h, "/v1/e/x", root)
	if why := <-ended; !errors.Is(why, context.DeadlineExceeded) {
		t.Fatalf("the backend's context ended with %v, want DeadlineExceeded", why)
	}
	if rec.Code < 400 || strings.Contains(rec.Body.String(), "waited") {
		t.Fatalf("answered %d %s, want an error", rec.Code, rec.Body)
	}
}

// TestPanicBecomesA500: a backend that panics gets the client a 500 with
// Vault's error envelope, the log names the panic without its value (which
// may hold request data), and the handler goes on serving.
func TestPanicBecomesA500(t *testing.T) {
	const secret = "panic-value-s3cr3t"
	c, root := coreWithEngine(t, engineFunc(func(_ context.Context, req *logical.Request) (*logical.Response, error) {
		if req.Path == "boom" {
			panic("cannot go on with " + secret)
		}
		return &logical.Response{Data: map[string]any{"ok": true}}, nil
	}))
	var logs bytes.Buffer
	h := httpapi.New(c, httpapi.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	rec := get(h, "/v1/e/boom", root)
	if rec.Code != http.StatusInternalServerError || !strings.HasPrefix(rec.Body.String(), `{"errors":["internal error`) {
		t.Fatalf("answered %d %s, want a 500 with an errors envelope", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "handler panicked") || !strings.Contains(logs.String(), "panic_type=string") {
		t.Fatalf("the log does not record the panic: %s", logs.String())
	}
	if strings.Contains(logs.String(), secret) || strings.Contains(rec.Body.String(), secret) {
		t.Fatal("the panic's value reached the log or the client")
	}
	if rec := get(h, "/v1/e/fine", root); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"ok":true`) {
		t.Fatalf("after the panic: %d %s", rec.Code, rec.Body)
	}
}
