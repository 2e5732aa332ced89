package compat

import (
	"os"
	"path/filepath"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/seal/static"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

func TestStaticAutoSeal(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "unseal.key")
	if err := static.Generate(keyFile); err != nil {
		t.Fatal(err)
	}
	cfg := config.DevConfig("127.0.0.1:0")
	cfg.Storage = config.Storage{Type: "bolt", Options: map[string]string{"path": t.TempDir()}}
	cfg.Seal = &config.Seal{Type: "static", Options: map[string]string{"key_file": keyFile}}
	in := servertest.Start(t, servertest.Options{Uninitialized: true, Config: cfg})
	sys := in.Client.Sys()

	if _, err := sys.Init(&vaultapi.InitRequest{SecretShares: 5, SecretThreshold: 3}); !isStatus(err, 400) {
		t.Fatalf("secret_shares with an auto seal: %v; want 400", err)
	}
	res, err := sys.Init(&vaultapi.InitRequest{RecoveryShares: 3, RecoveryThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Keys) != 0 || len(res.RecoveryKeys) != 3 || res.RootToken == "" {
		t.Fatalf("init with auto seal: %d keys, %d recovery keys", len(res.Keys), len(res.RecoveryKeys))
	}
	st, err := sys.SealStatus()
	if err != nil || st.Sealed || !st.RecoverySeal || st.Type != "static" || st.T != 2 || st.N != 3 {
		t.Fatalf("seal status = %+v, %v", st, err)
	}
	in.Client.SetToken(res.RootToken)
	if _, err := in.Client.KVv2("secret").Put(t.Context(), "a", map[string]any{"v": "auto"}); err == nil {
		t.Fatal("secret/ exists without being mounted")
	}
	if err := sys.Mount("secret", &vaultapi.MountInput{Type: "kv-v2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Client.KVv2("secret").Put(t.Context(), "a", map[string]any{"v": "auto"}); err != nil {
		t.Fatal(err)
	}
	// Unseal shares are refused: the seal unseals itself.
	in.Server.Core.Seal(t.Context())
	if _, err := sys.Unseal(res.RecoveryKeys[0]); err == nil {
		t.Fatal("recovery key accepted as an unseal share")
	}
	if err := in.Server.Core.UnsealAuto(t.Context()); err != nil {
		t.Fatalf("auto unseal: %v", err)
	}
	if s, err := in.Client.KVv2("secret").Get(t.Context(), "a"); err != nil || s.Data["v"] != "auto" {
		t.Fatalf("read after auto unseal = %v, %v", s, err)
	}

	// generate-root takes recovery shares.
	gr, err := sys.GenerateRootInit("", "")
	if err != nil || gr.Required != 2 {
		t.Fatalf("generate-root init = %+v, %v", gr, err)
	}
	sys.GenerateRootUpdate(res.RecoveryKeys[0], gr.Nonce)
	done, err := sys.GenerateRootUpdate(res.RecoveryKeysB64[2], gr.Nonce)
	if err != nil || !done.Complete {
		t.Fatalf("generate-root with recovery keys = %+v, %v", done, err)
	}

	// A different key file cannot unwrap the root key.
	other := filepath.Join(t.TempDir(), "other.key")
	if err := static.Generate(other); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(other)
	if err := os.WriteFile(keyFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	in.Server.Close()
	cfg2 := *cfg
	if _, err := startErr(t, &cfg2); err == nil {
		t.Fatal("server started with the wrong static key")
	}
	in.CheckNoLeaks(t, append(res.RecoveryKeys, res.RootToken)...)
}
