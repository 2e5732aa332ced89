package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// breakSink makes the audit path unwritable: the file is replaced by a
// directory and the server reopens it, as after a rotation.
func breakSink(t *testing.T, in *servertest.Instance, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	in.Server.Reload()
}

// rawRead reads a path over HTTP and returns the status and body.
func rawRead(t *testing.T, in *servertest.Instance, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, in.URL()+"/v1/"+path, nil)
	req.Header.Set("X-Vault-Token", in.RootToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAuditFailureModes(t *testing.T) {
	const secretValue = "s3cr3t-value-for-fail-closed"
	tests := []struct {
		name       string
		mode       string
		wantStatus int
	}{
		{"required fails closed", "required", 500},
		{"best-effort keeps serving", "best-effort", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			in := servertest.Start(t, servertest.Options{Config: auditConfig(path, map[string]string{"mode": tt.mode})})
			if _, err := in.Client.KVv2("secret").Put(context.Background(), "app", map[string]any{"password": secretValue}); err != nil {
				t.Fatal(err)
			}
			breakSink(t, in, path)
			status, body := rawRead(t, in, "secret/data/app")
			if status != tt.wantStatus {
				t.Fatalf("KV read with a broken sink: %d %s", status, body)
			}
			if tt.wantStatus == 500 && (strings.Contains(body, secretValue) || !strings.Contains(body, "internal error")) {
				t.Errorf("fail-closed response body: %s", body)
			}
			if tt.wantStatus == 200 && !strings.Contains(body, secretValue) {
				t.Errorf("best-effort read lost its data: %s", body)
			}
			if !strings.Contains(in.Logs(), "audit: sink failed") {
				t.Error("sink failure not in the server log")
			}
			if tt.mode == "required" {
				assertWriteRefused(t, in, path, secretValue)
			}
			if tt.mode == "best-effort" {
				status, body = rawRead(t, in, "sys/audit")
				if status != 200 || !strings.Contains(body, `"last_error":"audit: sink file: open`) {
					t.Errorf("sys/audit does not show the error: %d %s", status, body)
				}
			}
		})
	}
}

func TestAuditSysEndpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	in := servertest.Start(t, servertest.Options{Config: auditConfig(path, nil)})
	list, err := in.Client.Sys().ListAudit()
	if err != nil {
		t.Fatal(err)
	}
	if a := list["file/"]; a == nil || a.Type != "file" || a.Options["file_path"] != path || a.Options["mode"] != "required" {
		t.Errorf("sys/audit lists %+v", list)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"enable", func() error {
			return in.Client.Sys().EnableAuditWithOptions("evil", &vaultapi.EnableAuditOptions{Type: "file",
				Options: map[string]string{"file_path": "/etc/cron.d/x"}})
		}},
		{"disable", func() error { return in.Client.Sys().DisableAudit("file") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if statusOf(err) != 405 || !strings.Contains(err.Error(), "config file") {
				t.Fatalf("got %v, want 405 pointing at the config", err)
			}
		})
	}
	status, body := rawRead(t, in, "sys/audit/public-key")
	var pk struct {
		Data struct {
			PublicKey string `json:"public_key"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &pk); status != 200 || err != nil || len(pk.Data.PublicKey) != 44 {
		t.Errorf("public key: %d %s", status, body)
	}
	if _, err := in.Client.Logical().Write("sys/audit-hash/nope", map[string]any{"input": "x"}); statusOf(err) != 400 {
		t.Errorf("unknown sink hash: %v", err)
	}
}

// TestAuditRotationAndRestart rotates the file through the server's reload
// (what SIGHUP runs), then restarts the server on the same storage and
// audit file, and verifies both files as one signed chain.
func TestAuditRotationAndRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	cfg := auditConfig(path, nil)
	cfg.Storage = config.Storage{Type: "bolt", Options: map[string]string{"path": filepath.Join(dir, "coffer.db")}}
	in := servertest.Start(t, servertest.Options{Config: cfg})
	ctx := context.Background()
	kv := in.Client.KVv2("secret")
	if _, err := kv.Put(ctx, "a", map[string]any{"v": "1"}); err != nil {
		t.Fatal(err)
	}
	pub := publicKey(t, in.Client)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	in.Server.Reload()
	if _, err := kv.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	in.Server.Close()

	again := servertest.Start(t, servertest.Options{Config: cfg, Uninitialized: true})
	if err := again.Server.Core.Unseal(ctx, in.Keys[0]); err != nil {
		t.Fatal(err)
	}
	c := again.NewClient(t, in.RootToken)
	if _, err := c.KVv2("secret").Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got := publicKey(t, c); got != pub {
		t.Fatalf("public key changed across restart: %s != %s", got, pub)
	}
	again.Server.Close()
	sum := verifyFiles(t, pub, false, path+".1", path)
	if !sum.Genesis || sum.Files != 2 {
		t.Errorf("summary %+v", sum)
	}
	first, _ := os.ReadFile(path + ".1")
	if !strings.Contains(string(first), `"final":true`) {
		t.Error("rotated file does not end with a final checkpoint")
	}
}

// assertWriteRefused checks that with the sink broken a KV write is refused
// before the engine runs: once the sink works again the old value is there.
func assertWriteRefused(t *testing.T, in *servertest.Instance, path, old string) {
	t.Helper()
	ctx := context.Background()
	if _, err := in.Client.KVv2("secret").Put(ctx, "app", map[string]any{"password": "new"}); statusOf(err) != 500 {
		t.Fatalf("write with a broken required sink: %v", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	in.Server.Reload()
	s, err := in.Client.KVv2("secret").Get(ctx, "app")
	if err != nil || s.Data["password"] != old {
		t.Fatalf("after the refused write: %v %v", s, err)
	}
}
