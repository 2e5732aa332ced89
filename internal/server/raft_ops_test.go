package server_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// raftConfig is a plain-HTTP server on raft storage in dir.
func raftConfig(dir, nodeID string) *config.Config {
	cfg := config.Default()
	cfg.Listeners = []config.Listener{config.DefaultListener()}
	cfg.Listeners[0].TLSDisable = true
	cfg.Listeners[0].Address = "127.0.0.1:0"
	cfg.Storage = config.Storage{Type: "raft", Options: map[string]string{"path": dir, "node_id": nodeID}}
	return cfg
}

// waitSealed waits until the server reports itself sealed (a restore seals
// it once the restoring request has ended).
func waitSealed(t *testing.T, c *vaultapi.Client) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s, err := c.Sys().SealStatus(); err == nil && s.Sealed {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the server did not seal after the restore")
}

// TestRaftSnapshotRestoreIntoFreshServer saves a snapshot through the Vault
// client, restores it into another server (snapshot-force), unseals with
// the first server's key and finds every secret and policy.
func TestRaftSnapshotRestoreIntoFreshServer(t *testing.T) {
	ctx := context.Background()
	a := servertest.Start(t, servertest.Options{Config: raftConfig(t.TempDir(), "a")})
	const secret = "snapshot-canary-7b1e"
	for _, p := range []string{"app/db", "app/api"} {
		if _, err := a.Client.KVv2("secret").Put(ctx, p, map[string]any{"value": secret + p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Client.Sys().PutPolicy("app-read", `path "secret/data/app/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	var snap bytes.Buffer
	if err := a.Client.Sys().RaftSnapshot(&snap); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(snap.Bytes(), []byte(secret)) {
		t.Fatal("the snapshot holds a secret value in plaintext")
	}

	b := servertest.Start(t, servertest.Options{Config: raftConfig(t.TempDir(), "b")})
	// A plain restore refuses another cluster's snapshot and changes nothing.
	if err := b.Client.Sys().RaftSnapshotRestore(bytes.NewReader(snap.Bytes()), false); err == nil ||
		!strings.Contains(err.Error(), "snapshot-force") {
		t.Fatalf("restore of another cluster's snapshot without force: %v", err)
	}
	if _, err := b.Client.Sys().ListMounts(); err != nil {
		t.Fatalf("server b after a refused restore: %v", err)
	}
	if err := b.Client.Sys().RaftSnapshotRestore(bytes.NewReader(snap.Bytes()), true); err != nil {
		t.Fatal(err)
	}
	waitSealed(t, b.Client)
	if _, err := b.Client.Sys().Unseal(string(b.Keys[0])); err == nil {
		if s, _ := b.Client.Sys().SealStatus(); s != nil && !s.Sealed {
			t.Fatal("the restored server unsealed with its own old key")
		}
	}
	if err := b.Server.Core.Unseal(ctx, a.Keys[0]); err != nil {
		t.Fatalf("unseal with the snapshot cluster's key: %v", err)
	}
	client := b.NewClient(t, a.RootToken)
	for _, p := range []string{"app/db", "app/api"} {
		got, err := client.KVv2("secret").Get(ctx, p)
		if err != nil || got.Data["value"] != secret+p {
			t.Fatalf("%s after restore: %v, %v", p, got, err)
		}
	}
	if pol, err := client.Sys().GetPolicy("app-read"); err != nil || !strings.Contains(pol, "secret/data/app/*") {
		t.Fatalf("policy after restore: %q, %v", pol, err)
	}
	// Writes after the restore persist.
	if _, err := client.KVv2("secret").Put(ctx, "after", map[string]any{"value": "x"}); err != nil {
		t.Fatal(err)
	}
	a.CheckNoLeaks(t, secret+"app/db", a.RootToken)
	b.CheckNoLeaks(t, secret+"app/db", a.RootToken)
}

// TestRaftSnapshotSameCluster restores a cluster's own snapshot without
// force: data written after the snapshot is gone, the server seals and
// unseals with its own key.
func TestRaftSnapshotSameCluster(t *testing.T) {
	ctx := context.Background()
	in := servertest.Start(t, servertest.Options{Config: raftConfig(t.TempDir(), "solo")})
	kv := in.Client.KVv2("secret")
	if _, err := kv.Put(ctx, "keep", map[string]any{"v": "1"}); err != nil {
		t.Fatal(err)
	}
	var snap bytes.Buffer
	if err := in.Client.Sys().RaftSnapshot(&snap); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "later", map[string]any{"v": "2"}); err != nil {
		t.Fatal(err)
	}
	if err := in.Client.Sys().RaftSnapshotRestore(bytes.NewReader(snap.Bytes()), false); err != nil {
		t.Fatal(err)
	}
	waitSealed(t, in.Client)
	if err := in.Server.Core.Unseal(ctx, in.Keys[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "keep"); err != nil {
		t.Fatalf("keep: %v", err)
	}
	if _, err := kv.Get(ctx, "later"); err == nil {
		t.Fatal("a secret written after the snapshot survived the restore")
	}
}

func TestRaftEndpoints(t *testing.T) {
	in := servertest.Start(t, servertest.Options{Config: raftConfig(t.TempDir(), "node-1")})
	sec, err := in.Client.Logical().Read("sys/storage/raft/configuration")
	if err != nil {
		t.Fatal(err)
	}
	servers := sec.Data["config"].(map[string]any)["servers"].([]any)
	s0 := servers[0].(map[string]any)
	if len(servers) != 1 || s0["node_id"] != "node-1" || s0["leader"] != true || s0["voter"] != true || s0["protocol_version"] != "3" {
		t.Fatalf("configuration: %v", servers)
	}
	for _, tc := range []struct {
		name, path string
		body       []byte
		want       string
	}{
		{"remove self", "sys/storage/raft/remove-peer", []byte(`{"server_id":"node-1"}`), "serving this request"},
		{"remove unknown", "sys/storage/raft/remove-peer", []byte(`{"server_id":"ghost"}`), "no server"},
		{"restore garbage", "sys/storage/raft/snapshot-force", []byte("garbage"), "invalid snapshot archive"},
		{"restore nothing", "sys/storage/raft/snapshot", []byte{}, "invalid snapshot archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := in.Client.Logical().WriteRaw(tc.path, tc.body)
			if resp != nil {
				resp.Body.Close()
			}
			var re *vaultapi.ResponseError
			if !errors.As(err, &re) || re.StatusCode != 400 || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("PUT %s: %v; want 400 mentioning %q", tc.path, err, tc.want)
			}
		})
	}
	if s, err := in.Client.Sys().SealStatus(); err != nil || s.Sealed {
		t.Fatalf("a refused restore sealed the server: %v, %v", s, err)
	}
	// Sudo: a token without it is refused.
	if err := in.Client.Sys().PutPolicy("no-sudo", `path "sys/storage/raft/*" { capabilities = ["read", "update"] }`); err != nil {
		t.Fatal(err)
	}
	tok, err := in.Client.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{"no-sudo"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.NewClient(t, tok.Auth.ClientToken).Sys().RaftSnapshot(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("snapshot without sudo: %v", err)
	}
}

func TestRaftEndpointsNeedRaft(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	err := in.Client.Sys().RaftSnapshot(&bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "raft storage is not in use") {
		t.Fatalf("snapshot on inmem storage: %v", err)
	}
}
