package transit

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"hash"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/keywrap"
	"github.com/cofferdev/coffer/internal/logical"
)

// wrapForImport does what a client does: wrap material for the mount's
// wrapping key (read from wrapping_key) with RSA-OAEP(newHash) and KWP.
func wrapForImport(t *testing.T, e *env, material []byte, newHash func() hash.Hash) string {
	t.Helper()
	block, _ := pem.Decode([]byte(e.read("wrapping_key")["public_key"].(string)))
	if block == nil {
		t.Fatal("wrapping_key is not PEM")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := keywrap.ForImport(pub.(*rsa.PublicKey), newHash, material)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(ct)
}

func pkcs8(t *testing.T, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestImportSymmetric: an imported AES key encrypts exactly as that key
// does outside (a ciphertext made by transit opens with the raw key).
func TestImportSymmetric(t *testing.T) {
	for typ, size := range map[string]int{"aes256-gcm96": 32, "aes128-gcm96": 16} {
		t.Run(typ, func(t *testing.T) { testImportSymmetric(t, typ, size) })
	}
}

func testImportSymmetric(t *testing.T, typ string, size int) {
	e := newEnv(t)
	raw := make([]byte, size)
	rand.Read(raw)
	e.write("keys/byok/import", map[string]any{"ciphertext": wrapForImport(t, e, raw, sha256.New), "exportable": true, "type": typ})
	key := e.read("keys/byok")
	if key["imported_key"] != true || key["imported_key_allow_rotation"] != false || key["latest_version"] != 1 {
		t.Fatalf("key = %v", key)
	}
	ct := e.encrypt("byok", "hello", nil)
	body, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(ct, "vault:v1:"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(raw)
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, body[:12], body[12:], nil)
	if err != nil || string(plain) != "hello" {
		t.Fatalf("transit's ciphertext does not open with the imported key: %q, %v", plain, err)
	}
	exported := e.read("export/encryption-key/byok/1")["keys"].(map[string]string)["1"]
	if exported != base64.StdEncoding.EncodeToString(raw) {
		t.Fatal("the exported key is not the imported one")
	}
}

// TestImportAsymmetric: imported ed25519, ecdsa and rsa keys sign what
// their public keys (kept outside) verify.
func TestImportAsymmetric(t *testing.T) {
	e := newEnv(t)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaPriv, _ := rsa.GenerateKey(rand.Reader, 2048)
	msg := []byte("signed message")
	digest := sha256.Sum256(msg)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ec521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	for _, tc := range []struct {
		typ    string
		priv   any
		verify func(sig []byte) bool
	}{
		{"ed25519", edPriv, func(sig []byte) bool { return ed25519.Verify(edPub, msg, sig) }},
		{"ecdsa-p256", ecPriv, func(sig []byte) bool { return ecdsa.VerifyASN1(&ecPriv.PublicKey, digest[:], sig) }},
		{"ecdsa-p384", ec384, func(sig []byte) bool { return ecdsa.VerifyASN1(&ec384.PublicKey, digest[:], sig) }},
		{"ecdsa-p521", ec521, func(sig []byte) bool { return ecdsa.VerifyASN1(&ec521.PublicKey, digest[:], sig) }},
		{"rsa-2048", rsaPriv, func(sig []byte) bool {
			return rsa.VerifyPSS(&rsaPriv.PublicKey, crypto.SHA256, digest[:], sig, nil) == nil
		}},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			name := "imp-" + tc.typ
			e.write("keys/"+name+"/import", map[string]any{"type": tc.typ, "hash_function": "SHA-512",
				"ciphertext": wrapForImport(t, e, pkcs8(t, tc.priv), crypto.SHA512.New)})
			sig := e.write("sign/"+name, map[string]any{"input": base64.StdEncoding.EncodeToString(msg)})["signature"].(string)
			raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "vault:v1:"))
			if err != nil || !tc.verify(raw) {
				t.Fatalf("signature %q does not verify with the imported key's public key", sig)
			}
		})
	}
}

// TestImportVersionsAndRotation: an imported key takes imported versions,
// rotates here only with allow_rotation, and takes no imported version
// once it has rotated here; a generated key takes none.
func TestImportVersionsAndRotation(t *testing.T) {
	e := newEnv(t)
	raw := func() []byte { b := make([]byte, 32); rand.Read(b); return b }
	wrap := func(m []byte) map[string]any { return map[string]any{"ciphertext": wrapForImport(t, e, m, sha256.New)} }

	e.write("keys/fixed/import", wrap(raw()))
	v2 := raw()
	e.write("keys/fixed/import_version", wrap(v2))
	if got := e.read("keys/fixed")["latest_version"]; got != 2 {
		t.Fatalf("latest_version after import_version = %v", got)
	}
	e.fails("keys/fixed/rotate", nil, "imported without allow_rotation")
	e.fails("keys/fixed/config", map[string]any{"auto_rotate_period": "24h"}, "cannot rotate automatically")

	imp := wrap(raw())
	imp["allow_rotation"] = true
	e.write("keys/rotating/import", imp)
	e.write("keys/rotating/import_version", wrap(raw()))
	e.write("keys/rotating/rotate", nil)
	if got := e.read("keys/rotating")["latest_version"]; got != 3 {
		t.Fatalf("latest_version after rotate = %v", got)
	}
	e.fails("keys/rotating/import_version", wrap(raw()), "rotated here since its import")

	e.write("keys/generated", nil)
	e.fails("keys/generated/import_version", wrap(raw()), "only imported keys")
	e.fails("keys/generated/import", wrap(raw()), "already exists")
	e.fails("keys/missing/import_version", wrap(raw()), "not found")
}

// TestImportRefused: bad input is refused with a message, and no key is
// created.
func TestImportRefused(t *testing.T) {
	e := newEnv(t)
	good := make([]byte, 32)
	rand.Read(good)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ct := wrapForImport(t, e, good, sha256.New)
	body, _ := base64.StdEncoding.DecodeString(ct)
	tampered := bytes.Clone(body)
	tampered[len(tampered)-1] ^= 1
	for _, tc := range []struct {
		name string
		data map[string]any
		want string
	}{
		{"not base64", map[string]any{"ciphertext": "%%%"}, "not base64"},
		{"too short", map[string]any{"ciphertext": base64.StdEncoding.EncodeToString(body[:100])}, "too short"},
		{"wrong hash", map[string]any{"ciphertext": ct, "hash_function": "SHA384"}, "does not open"},
		{"unknown hash", map[string]any{"ciphertext": ct, "hash_function": "MD5"}, "unsupported hash_function"},
		{"tampered material", map[string]any{"ciphertext": base64.StdEncoding.EncodeToString(tampered)}, "key unwrap failed"},
		{"wrong size", map[string]any{"ciphertext": wrapForImport(t, e, good[:16], sha256.New)}, "32 bytes"},
		{"not pkcs8", map[string]any{"ciphertext": ct, "type": "ed25519"}, "does not parse"},
		{"wrong curve", map[string]any{"ciphertext": wrapForImport(t, e, pkcs8(t, ecPriv), sha256.New), "type": "ecdsa-p256"}, "not a ecdsa-p256 key"},
		{"wrong curve for p521", map[string]any{"ciphertext": wrapForImport(t, e, pkcs8(t, ecPriv), sha256.New), "type": "ecdsa-p521"}, "not a ecdsa-p521 key"},
		{"aes256 material for aes128", map[string]any{"ciphertext": ct, "type": "aes128-gcm96"}, "a aes128-gcm96 key is 16 bytes; the imported key is 32"},
		{"convergent", map[string]any{"ciphertext": ct, "convergent_encryption": true, "derived": true}, "convergent"},
		{"auto-rotate without rotation", map[string]any{"ciphertext": ct, "auto_rotate_period": "24h"}, "needs allow_rotation"},
		{"unknown type", map[string]any{"ciphertext": ct, "type": "des"}, "unknown key type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.fails("keys/k/import", tc.data, tc.want)
			if resp, err := e.req(logical.ReadOperation, "keys/k", nil); err != nil || resp != nil {
				t.Fatalf("a refused import left a key: %v, %v", resp, err)
			}
		})
	}
}
