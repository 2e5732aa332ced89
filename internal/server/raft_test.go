package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// TestRaftSingleNode runs the server on raft storage: secrets survive a
// restart, and the state machine and log on disk hold no plaintext.
func TestRaftSingleNode(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Listeners = []config.Listener{config.DefaultListener()}
	cfg.Listeners[0].TLSDisable = true
	cfg.Listeners[0].Address = "127.0.0.1:0"
	cfg.Storage = config.Storage{Type: "raft", Options: map[string]string{"path": dir, "node_id": "solo"}}
	in := servertest.Start(t, servertest.Options{Config: cfg})
	const secret = "raft-plaintext-canary-4242"
	if _, err := in.Client.KVv2("secret").Put(ctx, "db/password", map[string]any{"value": secret}); err != nil {
		t.Fatal(err)
	}
	in.Server.Close()

	again := servertest.Start(t, servertest.Options{Config: cfg, Uninitialized: true})
	if err := again.Server.Core.Unseal(ctx, in.Keys[0]); err != nil {
		t.Fatal(err)
	}
	got, err := again.NewClient(t, in.RootToken).KVv2("secret").Get(ctx, "db/password")
	if err != nil || got.Data["value"] != secret {
		t.Fatalf("after restart: %v, %v", got, err)
	}
	again.Server.Close()
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, needle := range []string{secret, "db/password", in.RootToken} {
			if strings.Contains(string(b), needle) {
				t.Errorf("%s holds %q in plaintext", p, needle)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
