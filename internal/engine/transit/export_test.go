package transit

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestExportRefusal(t *testing.T) {
	e := newEnv(t)
	e.write("keys/closed", nil)
	e.write("keys/closed-ec", map[string]any{"type": "ecdsa-p256"})
	for _, path := range []string{"export/encryption-key/closed", "export/hmac-key/closed", "export/signing-key/closed-ec"} {
		if _, err := e.req(logical.ReadOperation, path, nil); logical.KindOf(err) != logical.KindInvalidRequest ||
			!strings.Contains(err.Error(), "not exportable") {
			t.Fatalf("%s on a non-exportable key: %v", path, err)
		}
	}
	if pub := e.read("export/public-key/closed-ec")["keys"].(map[string]string)["1"]; !strings.HasPrefix(pub, "-----BEGIN PUBLIC KEY") {
		t.Fatalf("public key of a non-exportable key = %q", pub)
	}
	if _, err := e.req(logical.ReadOperation, "export/public-key/closed", nil); logical.KindOf(err) != logical.KindInvalidRequest {
		t.Fatalf("public key of an aes key: %v", err)
	}
}

func TestExportFormats(t *testing.T) {
	e := newEnv(t)
	e.write("keys/ec", map[string]any{"type": "ecdsa-p256", "exportable": true})
	e.write("keys/ed", map[string]any{"type": "ed25519", "exportable": true})
	e.write("keys/rsa", map[string]any{"type": "rsa-2048", "exportable": true})
	for _, tc := range []struct {
		path  string
		check func(string) bool
	}{
		{"export/signing-key/ec/1", func(s string) bool {
			b, _ := pem.Decode([]byte(s))
			k, err := x509.ParseECPrivateKey(b.Bytes)
			return err == nil && k.Curve.Params().Name == "P-256"
		}},
		{"export/signing-key/ed/latest", func(s string) bool {
			k, err := base64.StdEncoding.DecodeString(s)
			return err == nil && len(k) == ed25519.PrivateKeySize
		}},
		{"export/encryption-key/rsa", func(s string) bool {
			b, _ := pem.Decode([]byte(s))
			_, err := x509.ParsePKCS1PrivateKey(b.Bytes)
			return b.Type == "RSA PRIVATE KEY" && err == nil
		}},
		{"export/hmac-key/ed", func(s string) bool {
			k, err := base64.StdEncoding.DecodeString(s)
			return err == nil && len(k) == hmacKeySize
		}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			d := e.read(tc.path)
			keys := d["keys"].(map[string]string)
			if len(keys) != 1 || !tc.check(keys["1"]) {
				t.Fatalf("export = %v", d)
			}
		})
	}
	// The exported ecdsa key verifies a transit signature.
	d := e.read("export/signing-key/ec/1")["keys"].(map[string]string)["1"]
	b, _ := pem.Decode([]byte(d))
	priv, _ := x509.ParseECPrivateKey(b.Bytes)
	sig := e.write("sign/ec", map[string]any{"input": b64("m")})["signature"].(string)
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "vault:v1:"))
	h := sha256.Sum256([]byte("m"))
	if !ecdsa.VerifyASN1(&priv.PublicKey, h[:], raw) {
		t.Fatal("transit signature does not verify under the exported key")
	}
	e.write("keys/ec/rotate", nil)
	e.write("keys/ec/config", map[string]any{"min_decryption_version": 2})
	if _, err := e.req(logical.ReadOperation, "export/signing-key/ec/1", nil); logical.KindOf(err) != logical.KindInvalidRequest {
		t.Fatalf("export below min_decryption_version: %v", err)
	}
	if _, err := e.req(logical.ReadOperation, "export/signing-key/ec/9", nil); logical.KindOf(err) != logical.KindInvalidRequest {
		t.Fatalf("export of a future version: %v", err)
	}
	if _, err := e.req(logical.ReadOperation, "export/encryption-key/ec", nil); logical.KindOf(err) != logical.KindInvalidRequest {
		t.Fatalf("encryption-key of an ecdsa key: %v", err)
	}
}

func TestBackupRestore(t *testing.T) {
	e := newEnv(t)
	e.write("keys/plain", map[string]any{"exportable": true})
	if _, err := e.req(logical.ReadOperation, "backup/plain", nil); logical.KindOf(err) != logical.KindInvalidRequest {
		t.Fatalf("backup without allow_plaintext_backup: %v", err)
	}
	e.write("keys/k", map[string]any{"allow_plaintext_backup": true})
	if _, err := e.req(logical.ReadOperation, "backup/k", nil); err == nil || !strings.Contains(err.Error(), "exporting is disallowed") {
		t.Fatalf("backup of a non-exportable key: %v", err)
	}
	e.write("keys/k/config", map[string]any{"exportable": true, "deletion_allowed": true})
	e.write("keys/k/rotate", nil)
	ct := e.encrypt("k", "survives", nil)
	backup := e.read("backup/k")["backup"].(string)
	if _, err := e.req(logical.DeleteOperation, "keys/k", nil); err != nil {
		t.Fatal(err)
	}
	e.write("restore", map[string]any{"backup": backup})
	if got := e.decrypt("k", ct, nil); got != "survives" {
		t.Fatalf("decrypt after restore = %q", got)
	}
	if d := e.read("keys/k"); d["latest_version"] != 2 || d["backup_info"] == nil {
		t.Fatalf("restored key = %v", d)
	}
	e.fails("restore", map[string]any{"backup": backup}, "already exists")
	e.write("restore", map[string]any{"backup": backup, "force": true})
	e.write("restore/copy", map[string]any{"backup": backup})
	if got := e.decrypt("copy", ct, nil); got != "survives" {
		t.Fatalf("decrypt with a key restored under a new name = %q", got)
	}
	for _, bad := range []string{"!!", b64("{}"), b64(`{"policy":{"name":"x","type":"aes256-gcm96","keys":{"1":{"key":"AAAA"}}}}`)} {
		e.fails("restore/bad", map[string]any{"backup": bad}, "failed to decode backup")
	}
}

func TestRandomAndHash(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		path string
		data map[string]any
		n    int
	}{
		{"random", nil, 32},
		{"random/64", nil, 64},
		{"random/platform/16", nil, 16},
		{"random", map[string]any{"bytes": 8, "format": "hex"}, 8},
	} {
		out := e.write(tc.path, tc.data)["random_bytes"].(string)
		var got []byte
		if tc.data != nil {
			got, _ = hex.DecodeString(out)
		} else {
			got, _ = base64.StdEncoding.DecodeString(out)
		}
		if len(got) != tc.n {
			t.Fatalf("%s %v: %d bytes; want %d", tc.path, tc.data, len(got), tc.n)
		}
	}
	e.fails("random/0", nil, "positive")
	e.fails("random", map[string]any{"bytes": maxRandomBytes + 1}, "maximum")
	e.fails("random", map[string]any{"format": "base32"}, "unsupported encoding")
	// FIPS 180-2 test vector: SHA-256("abc").
	if sum := e.write("hash", map[string]any{"input": b64("abc")})["sum"]; sum != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("sha2-256(abc) = %v", sum)
	}
	if sum := e.write("hash/sha2-512", map[string]any{"input": b64("abc"), "format": "base64"})["sum"].(string); len(sum) != 88 {
		t.Fatalf("sha2-512 base64 = %q", sum)
	}
	e.fails("hash/md5", map[string]any{"input": b64("abc")}, "unsupported hash")
}

func TestCacheConfig(t *testing.T) {
	e := newEnv(t)
	if d := e.read("cache-config"); d["size"] != 0 {
		t.Fatalf("default cache-config = %v", d)
	}
	e.fails("cache-config", map[string]any{"size": 5}, "greater or equal to 10")
	e.write("cache-config", map[string]any{"size": 500})
	if d := e.read("cache-config"); d["size"] != 500 {
		t.Fatalf("cache-config after write = %v", d)
	}
}

func TestRestoreRefusesBadName(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", map[string]any{"exportable": true, "allow_plaintext_backup": true})
	backup := e.read("backup/k")["backup"].(string)
	raw, _ := base64.StdEncoding.DecodeString(backup)
	evil := strings.Replace(string(raw), `"name":"k"`, `"name":"a/b"`, 1)
	if evil == string(raw) {
		t.Fatal("backup layout changed; fix the test")
	}
	e.fails("restore", map[string]any{"backup": base64.StdEncoding.EncodeToString([]byte(evil))}, "invalid key name")
}
