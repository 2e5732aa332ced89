package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/testport"
)

// TestAuditProcessSIGHUPAndRestart runs the real binary with a file sink:
// the log is rotated with SIGHUP, the server is stopped with SIGTERM and
// started again on the same files, and both files verify as one chain
// that starts before init.
func TestAuditProcessSIGHUPAndRestart(t *testing.T) {
	dir := t.TempDir()
	addr := testport.Loopback(t)
	auditPath := filepath.Join(dir, "audit.log")
	configPath := filepath.Join(dir, "coffer.hcl")
	logPath := filepath.Join(dir, "server.log")
	writeFile(t, configPath, fmt.Sprintf(`
storage "bolt" { path = %q }
listener "tcp" {
  address     = %q
  tls_disable = true
}
audit "file" { path = %q }
`, filepath.Join(dir, "data"), addr, auditPath))

	p := startProcess(t, configPath, logPath)
	c := plainClient(t, addr)
	waitUp(t, c, p)
	res, err := c.Sys().Init(&vaultapi.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sys().Unseal(res.KeysB64[0]); err != nil {
		t.Fatal(err)
	}
	c.SetToken(res.RootToken)
	if err := c.Sys().Mount("secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.KVv2("secret").Put(ctx, "app", map[string]any{"v": "before-rotation"}); err != nil {
		t.Fatal(err)
	}
	pub := publicKey(t, c)
	if err := os.Rename(auditPath, auditPath+".1"); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitForLog(t, logPath, "audit files reopened")
	if _, err := c.KVv2("secret").Put(ctx, "app", map[string]any{"v": "after-rotation"}); err != nil {
		t.Fatal(err)
	}
	p.stop(t)

	p2 := startProcess(t, configPath, logPath)
	waitUp(t, c, p2)
	if _, err := c.Sys().Unseal(res.KeysB64[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.KVv2("secret").Get(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	p2.stop(t)

	sum := verifyFiles(t, pub, false, auditPath+".1", auditPath)
	if !sum.Genesis || sum.Files != 2 {
		t.Errorf("summary %+v", sum)
	}
	rotated, _ := os.ReadFile(auditPath)
	first, _, _ := strings.Cut(string(rotated), "\n")
	if !strings.Contains(first, `"type":"header"`) || !strings.Contains(first, pub) {
		t.Errorf("the rotated file's first line is not a header with the key: %s", first)
	}
	for _, s := range []string{"before-rotation", "after-rotation", res.RootToken, res.KeysB64[0]} {
		for _, f := range []string{auditPath, auditPath + ".1"} {
			if data, _ := os.ReadFile(f); strings.Contains(string(data), s) {
				t.Errorf("%s holds a secret in plaintext", filepath.Base(f))
			}
		}
	}
}

func plainClient(t *testing.T, addr string) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = "http://" + addr
	cfg.MaxRetries = 0
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.ClearToken()
	return c
}

func waitForLog(t *testing.T, path, want string) {
	t.Helper()
	for range 200 {
		if data, _ := os.ReadFile(path); strings.Contains(string(data), want) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("server log never said %q", want)
}
