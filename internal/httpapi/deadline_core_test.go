package httpapi_test

import (
	"context"
	"errors"
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

// waiter is an engine whose every request waits for its context to end and
// reports why it ended, or that it never did.
type waiter struct{ ended chan error }

func (b waiter) HandleRequest(ctx context.Context, _ *logical.Request) (*logical.Response, error) {
	select {
	case <-ctx.Done():
		b.ended <- ctx.Err()
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		b.ended <- errors.New("the request's context never ended")
		return &logical.Response{Data: map[string]any{"waited": true}}, nil
	}
}

// TestMaxRequestDurationEndsABlockedRequest: a request that blocks on its
// context is cut off at max_request_duration, with DeadlineExceeded, and the
// client gets an error rather than a response.
func TestMaxRequestDurationEndsABlockedRequest(t *testing.T) {
	ctx := context.Background()
	ended := make(chan error, 1)
	factories := server.Factories()
	factories["waiter"] = func(context.Context, *logical.BackendConfig) (logical.Backend, error) {
		return waiter{ended: ended}, nil
	}
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
	defer c.Seal(ctx)
	if _, err := c.HandleRequest(ctx, &logical.Request{Operation: logical.UpdateOperation, Path: "sys/mounts/wait",
		ClientToken: res.RootToken, Data: map[string]any{"type": "waiter"}}); err != nil {
		t.Fatalf("mount: %v", err)
	}
	h := httpapi.New(c, httpapi.Options{MaxRequestDuration: 50 * time.Millisecond})
	req := httptest.NewRequest(http.MethodGet, "/v1/wait/x", nil)
	req.Header.Set("X-Vault-Token", res.RootToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if why := <-ended; !errors.Is(why, context.DeadlineExceeded) {
		t.Fatalf("the backend's context ended with %v, want DeadlineExceeded", why)
	}
	if rec.Code < 400 || strings.Contains(rec.Body.String(), "waited") {
		t.Fatalf("answered %d %s, want an error", rec.Code, rec.Body)
	}
}
