package transit

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage/inmem"
	"github.com/cofferdev/coffer/internal/storage/storagetest"
)

// standbyPair returns env A, whose writes are logged, and env B, a second
// backend over the same storage (a standby node).
func standbyPair(t *testing.T) (a, b *env, log *storagetest.WriteLog) {
	t.Helper()
	mem := inmem.New()
	log = &storagetest.WriteLog{Backend: mem}
	a = newEnv(t)
	a.s = log
	a.b = a.open(-1)
	b = newEnv(t)
	b.s, b.clock = mem, a.clock
	b.b = b.open(-1)
	return a, b, log
}

// encryptResult encrypts through e and returns the ciphertext or the
// error text.
func encryptResult(e *env) string {
	resp, err := e.req(logical.UpdateOperation, "encrypt/k", map[string]any{"plaintext": base64.StdEncoding.EncodeToString([]byte("hi"))})
	if err != nil {
		return "error: " + err.Error()
	}
	return resp.Data["ciphertext"].(string)
}

// decryptResult decrypts ct through e and returns "ok" or the error text.
func decryptResult(e *env, ct string) string {
	if _, err := e.req(logical.UpdateOperation, "decrypt/k", map[string]any{"ciphertext": ct}); err != nil {
		return "error: " + err.Error()
	}
	return "ok"
}

// TestInvalidateStandby changes key k through A and uses it through B (its
// snapshot cached): B keeps using the old snapshot until it invalidates
// the keys A wrote, then follows the change.
func TestInvalidateStandby(t *testing.T) {
	tests := []struct {
		name   string
		change func(a *env)
		// observe returns what the test compares before and after.
		observe func(b *env, v1 string) string
		stale   string // prefix of observe before Invalidate
		fresh   string // prefix of observe after Invalidate
	}{
		{"rotate", func(a *env) { a.write("keys/k/rotate", nil) },
			func(b *env, _ string) string { return encryptResult(b) }, "vault:v1:", "vault:v2:"},
		{"min decryption version", func(a *env) {
			a.write("keys/k/rotate", nil)
			a.write("keys/k/config", map[string]any{"min_decryption_version": 2})
		}, decryptResult, "ok", "error: "},
		{"delete", func(a *env) {
			a.write("keys/k/config", map[string]any{"deletion_allowed": true})
			if _, err := a.req(logical.DeleteOperation, "keys/k", nil); err != nil {
				t.Fatal(err)
			}
		}, func(b *env, _ string) string { return encryptResult(b) }, "vault:v1:", "error: encryption key not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, log := standbyPair(t)
			a.write("keys/k", nil)
			v1 := encryptResult(b) // loads k into B's cache
			if !strings.HasPrefix(v1, "vault:v1:") {
				t.Fatalf("B encrypt = %q", v1)
			}
			log.Take()
			tt.change(a)
			keys := log.Take()
			if got := tt.observe(b, v1); !strings.HasPrefix(got, tt.stale) {
				t.Fatalf("B before Invalidate = %q; want the stale %q", got, tt.stale)
			}
			for _, k := range keys {
				b.b.Invalidate(context.Background(), k)
			}
			if got := tt.observe(b, v1); !strings.HasPrefix(got, tt.fresh) {
				t.Errorf("B after Invalidate of %q = %q; want %q", keys, got, tt.fresh)
			}
		})
	}
}

// TestInvalidateOtherKeys checks which keys empty the cache.
func TestInvalidateOtherKeys(t *testing.T) {
	tests := []struct {
		key      string
		wantKept bool
	}{
		{cacheConfigKey, true},
		{policyPrefix + "other", true},
		{policyPrefix + "k", false},
		{"unknown", false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			e := newEnv(t)
			e.write("keys/k", nil)
			encryptResult(e)
			e.b.Invalidate(context.Background(), tt.key)
			if got := e.b.store.cached("k") != nil; got != tt.wantKept {
				t.Errorf("after Invalidate(%q) k cached = %v, want %v", tt.key, got, tt.wantKept)
			}
		})
	}
}

// TestStandbyModes checks which paths a standby serves itself.
func TestStandbyModes(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		path string
		want logical.StandbyMode
	}{
		{"encrypt/k", logical.StandbyLocal},
		{"decrypt/k", logical.StandbyLocal},
		{"rewrap/k", logical.StandbyLocal},
		{"datakey/plaintext/k", logical.StandbyLocal},
		{"datakey/wrapped/k", logical.StandbyLocal},
		{"hmac/k", logical.StandbyLocal},
		{"hmac/k/sha2-512", logical.StandbyLocal},
		{"sign/k", logical.StandbyLocal},
		{"verify/k/sha2-256", logical.StandbyLocal},
		{"random", logical.StandbyLocal},
		{"random/32", logical.StandbyLocal},
		{"hash/sha2-256", logical.StandbyLocal},
		{"keys/k", logical.StandbyDefault},
		{"keys/k/rotate", logical.StandbyDefault},
		{"keys/k/config", logical.StandbyDefault},
		{"export/encryption-key/k", logical.StandbyDefault},
		{"restore/k", logical.StandbyDefault},
		{"cache-config", logical.StandbyDefault},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got := e.b.StandbyMode(&logical.Request{Operation: logical.UpdateOperation, Path: tt.path})
			if got != tt.want {
				t.Errorf("StandbyMode(%q) = %d, want %d", tt.path, got, tt.want)
			}
		})
	}
}
