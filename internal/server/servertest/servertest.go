// Package servertest starts in-process Coffer servers for tests and hands
// back a Vault API client bound to them. Production code never imports it.
package servertest

import (
	"context"
	"github.com/cofferdev/coffer/internal/logical/logicaltest"
	"log/slog"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/core"
	"github.com/cofferdev/coffer/internal/server"
)

// Instance is a running test server.
type Instance struct {
	Server    *server.Server
	Addr      string
	RootToken string
	Keys      [][]byte
	Client    *vaultapi.Client
	logs      *logicaltest.LogBuffer
}

// Options tune Start.
type Options struct {
	// Uninitialized leaves the server uninitialized and sealed.
	Uninitialized bool
	// Shares and Threshold for init (1/1 if zero).
	Shares, Threshold int
	// Config, if set, replaces the default in-memory, plain-HTTP config.
	Config *config.Config
}

// Start runs a server on a free loopback port with debug logging captured,
// initialised and unsealed unless opts say otherwise, with KV v2 at secret/.
// The server stops when the test ends.
func Start(t testing.TB, opts Options) *Instance {
	t.Helper()
	cfg := opts.Config
	if cfg == nil {
		cfg = config.DevConfig("127.0.0.1:0")
	}
	logs := &logicaltest.LogBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx := context.Background()
	srv, err := server.Start(ctx, cfg, logger)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(srv.Close)
	in := &Instance{Server: srv, Addr: srv.Addrs()[0], logs: logs}
	in.Client = newClient(t, in.URL())
	if opts.Uninitialized {
		return in
	}
	shares, threshold := opts.Shares, opts.Threshold
	if shares == 0 {
		shares, threshold = 1, 1
	}
	res, err := srv.Core.Initialize(ctx, core.InitParams{SecretShares: shares, SecretThreshold: threshold})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	in.Keys, in.RootToken = res.Keys, res.RootToken
	for _, k := range res.Keys[:threshold] {
		if err := srv.Core.Unseal(ctx, k); err != nil {
			t.Fatalf("unseal: %v", err)
		}
	}
	in.Client.SetToken(in.RootToken)
	if err := in.Client.Sys().Mount("secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatalf("mount secret/: %v", err)
	}
	return in
}

// URL is the server's base URL.
func (in *Instance) URL() string {
	if in.Server != nil && strings.HasPrefix(in.Addr, "https://") {
		return in.Addr
	}
	return "http://" + in.Addr
}

// Logs returns everything the server logged so far.
func (in *Instance) Logs() string { return in.logs.String() }

// NewClient returns a fresh Vault client for this server with the given token.
func (in *Instance) NewClient(t testing.TB, token string) *vaultapi.Client {
	c := newClient(t, in.URL())
	c.SetToken(token)
	return c
}

func newClient(t testing.TB, addr string) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatalf("vault client: %v", err)
	}
	c.ClearToken()
	return c
}

// CheckNoLeaks fails the test if any of the secrets appears in the logs.
func (in *Instance) CheckNoLeaks(t testing.TB, secrets ...string) {
	t.Helper()
	logs := in.Logs()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("server log contains a secret value (%d bytes)", len(s))
		}
	}
}
