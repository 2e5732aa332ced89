package compat

import (
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/server/servertest"
)

func TestMounts(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	sys := in.Client.Sys()
	if err := sys.Mount("team-a/kv", &vaultapi.MountInput{Type: "kv", Description: "team A",
		Config: vaultapi.MountConfigInput{DefaultLeaseTTL: "1h", MaxLeaseTTL: "2h"}}); err != nil {
		t.Fatalf("Mount: %v", err)
	}
	if err := sys.Mount("team-a/kv/nested", &vaultapi.MountInput{Type: "kv"}); !isStatus(err, 400) {
		t.Fatalf("nested mount: %v; want 400", err)
	}
	if err := sys.Mount("sys/evil", &vaultapi.MountInput{Type: "kv"}); !isStatus(err, 400) {
		t.Fatalf("mount under sys/: %v; want 400", err)
	}
	if err := sys.Mount("x", &vaultapi.MountInput{Type: "nosuchengine"}); !isStatus(err, 400) {
		t.Fatalf("unknown type: %v; want 400", err)
	}
	mounts, err := sys.ListMounts()
	if err != nil {
		t.Fatal(err)
	}
	m, ok := mounts["team-a/kv/"]
	if !ok || m.Type != "kv" || m.Description != "team A" || m.Config.DefaultLeaseTTL != 3600 {
		t.Fatalf("listed mount = %+v (present %v)", m, ok)
	}
	for _, p := range []string{"secret/", "sys/", "cubbyhole/"} {
		if _, ok := mounts[p]; !ok {
			t.Errorf("mount %s not listed", p)
		}
	}
	if mounts["secret/"].Options["version"] != "2" {
		t.Errorf("secret/ options = %v; want version 2", mounts["secret/"].Options)
	}

	if err := sys.TuneMountAllowNil("team-a/kv", vaultapi.TuneMountConfigInput{MaxLeaseTTL: strPtr("3h"), Description: strPtr("tuned")}); err != nil {
		t.Fatalf("TuneMount: %v", err)
	}
	tune, err := sys.MountConfig("team-a/kv")
	if err != nil || tune.MaxLeaseTTL != 3*3600 || tune.DefaultLeaseTTL != 3600 {
		t.Fatalf("MountConfig = %+v, %v", tune, err)
	}
	if m, _ := sys.GetMount("team-a/kv"); m == nil || m.Description != "tuned" {
		t.Fatalf("description after tune = %+v", m)
	}
	if err := sys.TuneMountAllowNil("team-a/kv", vaultapi.TuneMountConfigInput{DefaultLeaseTTL: strPtr("5h")}); !isStatus(err, 400) {
		t.Fatalf("default TTL above max: %v; want 400", err)
	}

	if _, err := in.Client.Logical().Write("team-a/kv/app", map[string]any{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if err := sys.Unmount("team-a/kv"); err != nil {
		t.Fatalf("Unmount: %v", err)
	}
	if err := sys.Mount("team-a/kv", &vaultapi.MountInput{Type: "kv"}); err != nil {
		t.Fatal(err)
	}
	if s, err := in.Client.Logical().Read("team-a/kv/app"); err != nil || s != nil {
		t.Fatalf("data survived unmount + remount: %v, %v", s, err)
	}
}

func TestMountDiscoveryForKVCommands(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	s, err := in.Client.Logical().Read("sys/internal/ui/mounts/secret/foo/bar")
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := s.Data["options"].(map[string]any)
	if s.Data["path"] != "secret/" || s.Data["type"] != "kv" || opts["version"] != "2" {
		t.Fatalf("mount info = %v", s.Data)
	}
	if err := in.Client.Sys().Mount("old", &vaultapi.MountInput{Type: "kv"}); err != nil {
		t.Fatal(err)
	}
	s, err = in.Client.Logical().Read("sys/internal/ui/mounts/old/x")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := s.Data["options"].(map[string]any); o["version"] == "2" {
		t.Fatalf("kv v1 mount reports version 2: %v", s.Data)
	}
	if _, err := in.NewClient(t, "").Logical().Read("sys/internal/ui/mounts/secret/x"); !isStatus(err, 403) {
		t.Fatalf("mount discovery without a token: %v; want 403", err)
	}
	// Any capability under a mount reveals it (Vault's preflight rule);
	// none does not.
	if err := in.Client.Sys().PutPolicy("one-secret", `path "secret/data/app" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	reader := in.NewClient(t, createToken(t, in, &vaultapi.TokenCreateRequest{Policies: []string{"one-secret"}}))
	if s, err := reader.Logical().Read("sys/internal/ui/mounts/secret/app"); err != nil || s.Data["path"] != "secret/" {
		t.Fatalf("preflight with read on one secret = %v, %v", s, err)
	}
	if _, err := reader.Logical().Read("sys/internal/ui/mounts/old/x"); !isStatus(err, 403) {
		t.Fatalf("preflight on a mount without access: %v; want 403", err)
	}
}

func strPtr(s string) *string { return &s }

// TestRemount: the Vault client's Remount (start, then poll the status)
// moves a secrets engine and an auth method; the secret and the user come
// along, the old paths are gone, and a bad move is a 400.
func TestRemount(t *testing.T) {
	in := servertest.Start(t, servertest.Options{})
	sys := in.Client.Sys()
	if err := sys.Mount("old-kv", &vaultapi.MountInput{Type: "kv"}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Client.Logical().Write("old-kv/app", map[string]any{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if err := sys.EnableAuthWithOptions("people", &vaultapi.EnableAuthOptions{Type: "userpass"}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Client.Logical().Write("auth/people/users/alice", map[string]any{"password": "s3cret-horse"}); err != nil {
		t.Fatal(err)
	}
	if err := sys.Remount("old-kv", "new-kv"); err != nil {
		t.Fatalf("Remount: %v", err)
	}
	if s, err := in.Client.Logical().Read("new-kv/app"); err != nil || s == nil || s.Data["k"] != "v" {
		t.Fatalf("read at the new path = %v, %v", s, err)
	}
	if resp, err := in.Client.Logical().ReadRaw("old-kv/app"); err == nil || resp == nil || resp.StatusCode != 404 {
		t.Fatalf("read at the old path: %v, %v; want 404", resp, err)
	}
	if err := sys.Remount("auth/people", "auth/staff"); err != nil {
		t.Fatalf("Remount of an auth method: %v", err)
	}
	if _, err := in.Client.Logical().Write("auth/staff/login/alice", map[string]any{"password": "s3cret-horse"}); err != nil {
		t.Fatalf("login at the new path: %v", err)
	}
	if _, err := sys.StartRemount("new-kv", "sys/kv"); !isStatus(err, 400) {
		t.Fatalf("remount under sys/: %v; want 400", err)
	}
	if _, err := sys.RemountStatus("no-such-migration"); !isStatus(err, 404) {
		t.Fatalf("status of an unknown migration: %v; want 404", err)
	}
}
