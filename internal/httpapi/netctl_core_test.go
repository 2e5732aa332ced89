package httpapi_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/cofferdev/coffer/internal/core"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/netctl"
	"github.com/cofferdev/coffer/internal/server"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// TestQuotasReachNewControlsAtUnseal checks that quotas and their settings
// live in the barrier and are handed to the network controls at unseal: a
// second core over the same storage, with fresh controls, enforces them.
func TestQuotasReachNewControlsAtUnseal(t *testing.T) {
	ctx := context.Background()
	phys := inmem.New()
	newCore := func() (*core.Core, *netctl.Controls) {
		t.Helper()
		nc, err := netctl.New(netctl.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		c, err := core.New(core.Config{Physical: phys, Network: nc, Factories: server.Factories(), AuthFactories: server.AuthFactories()})
		if err != nil {
			t.Fatal(err)
		}
		return c, nc
	}
	c1, _ := newCore()
	res, err := c1.Initialize(ctx, core.InitParams{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := c1.Unseal(ctx, res.Keys[0]); err != nil {
		t.Fatal(err)
	}
	for _, req := range []*logical.Request{
		{Operation: logical.UpdateOperation, Path: "sys/quotas/rate-limit/kv", Data: map[string]any{"path": "secret/", "rate": "1", "interval": "1h"}},
		{Operation: logical.UpdateOperation, Path: "sys/quotas/config", Data: map[string]any{"rate_limit_exempt_paths": []any{"secret/open/"}}},
	} {
		req.ClientToken = res.RootToken
		if _, err := c1.HandleRequest(ctx, req); err != nil {
			t.Fatalf("%s: %v", req.Path, err)
		}
	}
	c1.Seal(ctx)

	c2, nc2 := newCore()
	ip := netip.MustParseAddr("192.0.2.1")
	if d := nc2.RateLimit("secret/data/x", ip); !d.Allowed || d.Quota != "" {
		t.Fatalf("fresh controls already limit: %+v", d)
	}
	if err := c2.Unseal(ctx, res.Keys[0]); err != nil {
		t.Fatal(err)
	}
	if d := nc2.RateLimit("secret/data/x", ip); !d.Allowed || d.Quota != "kv" {
		t.Fatalf("first request after unseal: %+v", d)
	}
	if d := nc2.RateLimit("secret/data/x", ip); d.Allowed {
		t.Fatalf("stored quota not enforced after unseal: %+v", d)
	}
	if d := nc2.RateLimit("secret/open/x", ip); !d.Allowed || d.Quota != "" {
		t.Fatalf("stored exempt paths not applied after unseal: %+v", d)
	}
	resp, err := c2.HandleRequest(ctx, &logical.Request{Operation: logical.ListOperation, Path: "sys/quotas/rate-limit/", ClientToken: res.RootToken})
	if err != nil || resp == nil || len(resp.Data["keys"].([]string)) != 1 {
		t.Fatalf("list quotas: %+v %v", resp, err)
	}
	c2.Seal(ctx)
}
