package transit

import (
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestCreateAndReadEveryType(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		typ                   string
		enc, sign, derivation bool
		pubPrefix             string
	}{
		{"aes128-gcm96", true, false, true, ""},
		{"aes256-gcm96", true, false, true, ""},
		{"chacha20-poly1305", true, false, true, ""},
		{"ed25519", false, true, true, ""},
		{"ecdsa-p256", false, true, false, "-----BEGIN PUBLIC KEY-----"},
		{"ecdsa-p384", false, true, false, "-----BEGIN PUBLIC KEY-----"},
		{"ecdsa-p521", false, true, false, "-----BEGIN PUBLIC KEY-----"},
		{"rsa-2048", true, true, false, "-----BEGIN PUBLIC KEY-----"},
		{"rsa-3072", true, true, false, "-----BEGIN PUBLIC KEY-----"},
		{"rsa-4096", true, true, false, "-----BEGIN PUBLIC KEY-----"},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			name := "k-" + tc.typ
			e.write("keys/"+name, map[string]any{"type": tc.typ})
			d := e.read("keys/" + name)
			if d["type"] != tc.typ || d["latest_version"] != 1 || d["min_decryption_version"] != 1 ||
				d["min_encryption_version"] != 0 || d["exportable"] != false || d["deletion_allowed"] != false {
				t.Fatalf("read = %v", d)
			}
			if d["supports_encryption"] != tc.enc || d["supports_decryption"] != tc.enc ||
				d["supports_signing"] != tc.sign || d["supports_derivation"] != tc.derivation {
				t.Fatalf("supports_* = %v", d)
			}
			v1 := d["keys"].(map[string]any)["1"]
			if tc.enc && !tc.sign {
				if _, ok := v1.(int64); !ok {
					t.Fatalf("symmetric version entry = %#v; want a unix time", v1)
				}
				return
			}
			m := v1.(map[string]any)
			pub, _ := m["public_key"].(string)
			if pub == "" || !strings.HasPrefix(pub, tc.pubPrefix) || m["creation_time"] == "" {
				t.Fatalf("asymmetric version entry = %v", m)
			}
			wantName := map[string]string{"ecdsa-p256": "P-256", "ecdsa-p384": "P-384", "ecdsa-p521": "P-521", "ed25519": "ed25519"}[tc.typ]
			if wantName == "" {
				wantName = tc.typ
			}
			if m["name"] != wantName {
				t.Fatalf("version name = %v; want %s", m["name"], wantName)
			}
		})
	}
	resp, err := e.req(logical.ListOperation, "keys/", nil)
	if err != nil || len(resp.Data["keys"].([]string)) != 10 {
		t.Fatalf("list = %v, %v", resp, err)
	}
}

func TestCreateValidation(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		data map[string]any
		want string
	}{
		{"bad type", map[string]any{"type": "des"}, "unknown key type"},
		{"convergent without derived", map[string]any{"convergent_encryption": true}, "requires derivation"},
		{"convergent ecdsa", map[string]any{"type": "ecdsa-p256", "derived": true, "convergent_encryption": true}, "not supported"},
		{"derived rsa", map[string]any{"type": "rsa-2048", "derived": true}, "derivation not supported"},
		{"short rotate period", map[string]any{"auto_rotate_period": "10m"}, "at least an hour"},
	} {
		t.Run(tc.name, func(t *testing.T) { e.fails("keys/bad", tc.data, tc.want) })
	}
	if resp, _ := e.req(logical.ReadOperation, "keys/bad", nil); resp != nil {
		t.Fatal("a refused create stored a key")
	}
}

func TestCreateExistingKeyIsUnchanged(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", nil)
	ct := e.encrypt("k", "hello", nil)
	e.write("keys/k", map[string]any{"type": "chacha20-poly1305"})
	if d := e.read("keys/k"); d["type"] != "aes256-gcm96" {
		t.Fatalf("second create changed the key: %v", d)
	}
	if got := e.decrypt("k", ct, nil); got != "hello" {
		t.Fatalf("decrypt after second create = %q", got)
	}
}

func TestDeleteNeedsDeletionAllowed(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", nil)
	if _, err := e.req(logical.DeleteOperation, "keys/k", nil); logical.KindOf(err) != logical.KindInvalidRequest ||
		!strings.Contains(err.Error(), "deletion is not allowed") {
		t.Fatalf("delete without deletion_allowed: %v", err)
	}
	e.write("keys/k/config", map[string]any{"deletion_allowed": true})
	if _, err := e.req(logical.DeleteOperation, "keys/k", nil); err != nil {
		t.Fatal(err)
	}
	if resp, err := e.req(logical.ReadOperation, "keys/k", nil); resp != nil || err != nil {
		t.Fatalf("read after delete = %v, %v", resp, err)
	}
	if e.b.store.cached("k") != nil {
		t.Fatal("deleted key still cached")
	}
	if _, err := e.req(logical.DeleteOperation, "keys/k", nil); logical.KindOf(err) != logical.KindInvalidRequest {
		t.Fatalf("delete of a missing key: %v", err)
	}
}

func TestConfigRules(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", map[string]any{"exportable": true, "allow_plaintext_backup": true})
	e.write("keys/k/rotate", nil)
	e.write("keys/k/rotate", nil) // latest = 3
	for _, tc := range []struct {
		name string
		data map[string]any
		want string
	}{
		{"negative min dec", map[string]any{"min_decryption_version": -1}, "cannot be negative"},
		{"min dec too new", map[string]any{"min_decryption_version": 4}, "latest key version is 3"},
		{"min enc too new", map[string]any{"min_encryption_version": 4}, "latest key version is 3"},
		{"min enc below min dec", map[string]any{"min_decryption_version": 3, "min_encryption_version": 2}, "should not be less than min decryption"},
		{"exportable off", map[string]any{"exportable": false}, "cannot be disabled"},
		{"backup off", map[string]any{"allow_plaintext_backup": false}, "cannot be disabled"},
		{"short period", map[string]any{"auto_rotate_period": 60}, "at least an hour"},
	} {
		t.Run(tc.name, func(t *testing.T) { e.fails("keys/k/config", tc.data, tc.want) })
	}
	if d := e.read("keys/k"); d["min_decryption_version"] != 1 || d["min_encryption_version"] != 0 {
		t.Fatalf("refused configs changed the key: %v", d)
	}
	d := e.write("keys/k/config", map[string]any{"min_decryption_version": 2, "min_encryption_version": 3, "auto_rotate_period": "24h"})
	if d["min_decryption_version"] != 2 || d["min_encryption_version"] != 3 || d["auto_rotate_period"] != int64(86400) {
		t.Fatalf("config response = %v", d)
	}
	resp, err := e.req(logical.UpdateOperation, "keys/k/config", map[string]any{"min_decryption_version": 0})
	if err != nil || len(resp.Warnings) != 1 || resp.Data["min_decryption_version"] != 1 {
		t.Fatalf("min_decryption_version 0 = %v, %v; want forced to 1 with a warning", resp, err)
	}
	e.fails("keys/missing/config", map[string]any{"deletion_allowed": true}, "no existing key")
}

func TestMinVersions(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", nil)
	v1 := e.encrypt("k", "one", nil)
	e.write("keys/k/rotate", nil)
	v2 := e.encrypt("k", "two", nil)
	if !strings.HasPrefix(v1, "vault:v1:") || !strings.HasPrefix(v2, "vault:v2:") {
		t.Fatalf("ciphertexts %q %q", v1, v2)
	}
	if got := e.decrypt("k", v1, nil); got != "one" {
		t.Fatalf("old ciphertext before min_decryption_version = %q", got)
	}
	e.write("keys/k/config", map[string]any{"min_decryption_version": 2})
	e.fails("decrypt/k", map[string]any{"ciphertext": v1}, errTooOld)
	if got := e.decrypt("k", v2, nil); got != "two" {
		t.Fatalf("current ciphertext = %q", got)
	}
	e.write("keys/k/rotate", nil)
	e.write("keys/k/config", map[string]any{"min_encryption_version": 3})
	e.fails("encrypt/k", map[string]any{"plaintext": b64("x"), "key_version": 2}, "less than the minimum encryption key version")
	e.fails("encrypt/k", map[string]any{"plaintext": b64("x"), "key_version": 9}, "higher than the latest")
	if ct := e.encrypt("k", "x", map[string]any{"key_version": 3}); !strings.HasPrefix(ct, "vault:v3:") {
		t.Fatalf("key_version 3 gave %q", ct)
	}
	e.fails("decrypt/k", map[string]any{"ciphertext": "vault:v7:" + b64("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")}, "too new")
}

func TestRotateAndRewrap(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", nil)
	ct := e.encrypt("k", "secret", nil)
	d := e.write("keys/k/rotate", nil)
	if d["latest_version"] != 2 || len(d["keys"].(map[string]any)) != 2 {
		t.Fatalf("rotate response = %v", d)
	}
	out := e.write("rewrap/k", map[string]any{"ciphertext": ct})
	if !strings.HasPrefix(out["ciphertext"].(string), "vault:v2:") || out["key_version"] != 2 {
		t.Fatalf("rewrap = %v", out)
	}
	if got := e.decrypt("k", out["ciphertext"].(string), nil); got != "secret" {
		t.Fatalf("rewrapped decrypt = %q", got)
	}
	out = e.write("rewrap/k", map[string]any{"ciphertext": ct, "key_version": 1})
	if !strings.HasPrefix(out["ciphertext"].(string), "vault:v1:") {
		t.Fatalf("rewrap to version 1 = %v", out)
	}
	e.fails("keys/missing/rotate", nil, "not found")
}

func TestTrim(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", nil)
	old := e.encrypt("k", "old", nil)
	for range 3 {
		e.write("keys/k/rotate", nil) // latest = 4
	}
	e.fails("keys/k/trim", map[string]any{"min_available_version": 2}, "beyond min_decryption_version")
	e.write("keys/k/config", map[string]any{"min_decryption_version": 3, "min_encryption_version": 4})
	e.fails("keys/k/trim", map[string]any{"min_available_version": 0}, "positive")
	e.fails("keys/k/trim", map[string]any{"min_available_version": 4}, "beyond min_decryption_version")
	e.write("keys/k/trim", map[string]any{"min_available_version": 3})
	d := e.read("keys/k")
	keys := d["keys"].(map[string]any)
	if len(keys) != 2 || keys["1"] != nil || keys["3"] == nil || d["min_available_version"] != 3 {
		t.Fatalf("after trim: %v", d)
	}
	e.fails("keys/k/trim", map[string]any{"min_available_version": 2}, "lower than its current value")
	e.fails("keys/k/config", map[string]any{"min_decryption_version": 2}, "min available version")
	e.fails("decrypt/k", map[string]any{"ciphertext": old}, errTooOld)
	// Trimmed versions are gone from storage too: a fresh backend agrees.
	e.b = e.open(-1)
	if d := e.read("keys/k"); len(d["keys"].(map[string]any)) != 2 {
		t.Fatalf("trim not persisted: %v", d)
	}
}

func TestKeyNames(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"a", true}, {"prod-eu", true}, {"a.b@c_d", true}, {"-a", false}, {"a-", false}, {"a/b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.req(logical.UpdateOperation, "keys/"+tc.name, nil)
			if (err == nil) != tc.ok {
				t.Fatalf("create %q: %v; want ok=%v", tc.name, err, tc.ok)
			}
		})
	}
}

func TestCreationTimeFromClock(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", nil)
	if got := e.read("keys/k")["keys"].(map[string]any)["1"]; got != e.clock.Now().Unix() {
		t.Fatalf("creation time %v; want the injected clock's %v", got, e.clock.Now().Unix())
	}
	e.clock.Advance(time.Hour)
}

func TestValidKeyName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"a", true}, {"prod-eu", true}, {"a.b@c_d9", true}, {"", false}, {"-a", false}, {"a.", false},
		{"a/b", false}, {"../x", false}, {"a b", false},
	} {
		if got := validKeyName(tc.name); got != tc.ok {
			t.Errorf("validKeyName(%q) = %v; want %v", tc.name, got, tc.ok)
		}
	}
}
