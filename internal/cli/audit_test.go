package cli

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/audit"
	"github.com/cofferdev/coffer/internal/logical"
)

// writeAuditLog writes a small signed log and returns its path and key.
func writeAuditLog(t *testing.T) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	cfg, err := audit.ParseSinkConfig("file", "file", map[string]string{"path": path, "checkpoint_entries": "2"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := audit.NewBroker([]audit.SinkConfig{cfg}, audit.BrokerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	if err := b.Unlock(audit.Keys{HMAC: map[string][]byte{"file": bytes.Repeat([]byte{1}, 32)}, Signing: priv}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		e := &audit.Entry{Type: audit.TypeRequest, Request: &audit.Request{Operation: string(logical.ReadOperation), Path: "secret/data/x"}}
		if err := b.Log(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return path, base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
}

func TestAuditVerify(t *testing.T) {
	path, pub := writeAuditLog(t)
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	swapped := filepath.Join(t.TempDir(), "swapped.log")
	lines[3], lines[4] = lines[4], lines[3]
	if err := os.WriteFile(swapped, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		stdout   string
		stderr   string
	}{
		{"intact", []string{"audit", "verify", "--public-key", pub, path}, 0, "OK: 10 entries in 1 file(s), seq 1 to 10, 4 checkpoints", ""},
		{"reordered", []string{"audit", "verify", "--public-key", pub, swapped}, 1, "", "entry seq 4 is missing before entry seq 5"},
		{"missing key", []string{"audit", "verify", path}, 2, "", "--public-key must be"},
		{"no files", []string{"audit", "verify", "--public-key", pub}, 2, "", "not enough arguments"},
		{"unreadable file", []string{"audit", "verify", "--public-key", pub, path + ".nope"}, 1, "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, "http://127.0.0.1:1", nil, "", tt.args...)
			if res.code != tt.wantCode || !strings.Contains(res.stdout, tt.stdout) || !strings.Contains(res.stderr, tt.stderr) {
				t.Fatalf("code %d stdout %q stderr %q", res.code, res.stdout, res.stderr)
			}
		})
	}
}
