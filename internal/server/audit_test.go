package server_test

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/audit"
	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// auditConfig is the dev config plus one file sink at path.
func auditConfig(path string, opts map[string]string) *config.Config {
	cfg := config.DevConfig("127.0.0.1:0")
	o := map[string]string{"path": path, "checkpoint_entries": "5"}
	for k, v := range opts {
		o[k] = v
	}
	cfg.Audit = []config.Audit{{Type: "file", Name: "file", Options: o}}
	return cfg
}

func statusOf(err error) int {
	var re *vaultapi.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}

// verifyFiles verifies the files as one log with the server's public key.
func verifyFiles(t *testing.T, pub string, live bool, files ...string) audit.Summary {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(pub)
	if err != nil {
		t.Fatal(err)
	}
	v := audit.NewVerifier(audit.VerifyOptions{PublicKey: key, Live: live})
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		err = v.Add(name, f)
		f.Close()
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
	}
	sum, err := v.Finish()
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return sum
}

func publicKey(t *testing.T, c *vaultapi.Client) string {
	t.Helper()
	s, err := c.Logical().Read("sys/audit/public-key")
	if err != nil || s == nil {
		t.Fatalf("public key: %v", err)
	}
	return s.Data["public_key"].(string)
}

// TestAuditNoSecretsInLog drives init, unseal, KV, tokens, a denied and a
// bad request through the HTTP API and checks that the log holds none of
// the secrets in plaintext while sys/audit-hash of each is in it.
func TestAuditNoSecretsInLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	in := servertest.Start(t, servertest.Options{Uninitialized: true, Config: auditConfig(path, nil)})
	c := in.Client
	initResp, err := c.Sys().Init(&vaultapi.InitRequest{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sys().Unseal(initResp.KeysB64[0]); err != nil {
		t.Fatal(err)
	}
	c.SetToken(initResp.RootToken)
	if err := c.Sys().Mount("secret", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatal(err)
	}
	const secretValue = "correct-horse-battery-staple"
	ctx := context.Background()
	if _, err := c.KVv2("secret").Put(ctx, "app", map[string]any{"password": secretValue}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.KVv2("secret").Get(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	tok, err := c.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	child := in.NewClient(t, tok.Auth.ClientToken)
	if _, err := child.KVv2("secret").Get(ctx, "app"); statusOf(err) != 403 {
		t.Fatalf("denied read: %v", err)
	}
	if _, err := c.Logical().Write("sys/policies/acl/x", map[string]any{}); statusOf(err) != 400 {
		t.Fatalf("bad request: %v", err)
	}
	pub := publicKey(t, c)
	hashes := map[string]string{}
	for _, v := range []string{secretValue, initResp.RootToken, tok.Auth.ClientToken, initResp.KeysB64[0]} {
		h, err := c.Logical().Write("sys/audit-hash/file", map[string]any{"input": v})
		if err != nil {
			t.Fatal(err)
		}
		hashes[v] = h.Data["hash"].(string)
	}
	in.Server.Close()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	log := string(data)
	tests := []struct {
		name, value string
		hashed      bool // the log must hold sys/audit-hash of the value
	}{
		{"secret value", secretValue, true},
		{"root token", initResp.RootToken, true},
		{"child token", tok.Auth.ClientToken, true},
		{"unseal key", initResp.KeysB64[0], false},
		{"unseal key hex", initResp.Keys[0], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(log, tt.value) {
				t.Errorf("audit log contains the %s in plaintext", tt.name)
			}
			h, ok := hashes[tt.value]
			if tt.hashed && !strings.Contains(log, `"`+h+`"`) {
				t.Errorf("audit log lacks sys/audit-hash of the %s (%s)", tt.name, h)
			}
			if !tt.hashed && ok && strings.Contains(withoutHashCalls(log), h) {
				t.Errorf("audit log holds a hash of the %s: key material must not be written at all", tt.name)
			}
		})
	}
	for _, want := range []string{`"path":"sys/init"`, `"path":"sys/unseal"`, `"status":403`, `"status":400`,
		`"error":"permission denied"`, `"type":"header"`, `"final":true`} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	in.CheckNoLeaks(t, secretValue, initResp.RootToken, tok.Auth.ClientToken, initResp.KeysB64[0])
	if sum := verifyFiles(t, pub, false, path); !sum.Genesis || sum.Checkpoints < 2 {
		t.Errorf("summary %+v", sum)
	}
}

// withoutHashCalls drops the test's own sys/audit-hash requests, whose
// (hashed) input is the value being looked for.
func withoutHashCalls(log string) string {
	var keep []string
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, `"path":"sys/audit-hash/`) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
