package transit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

func pemPublic(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// TestImportPublicKey: a key imported from its public key verifies what
// the private key (kept outside) signs, RSA encrypts for it, and every use
// of the private key is refused, also after a reopen from storage.
func TestImportPublicKey(t *testing.T) {
	e := newEnv(t)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	rsaPriv, _ := rsa.GenerateKey(rand.Reader, 2048)
	msg := []byte("signed outside")
	digest := sha256.Sum256(msg)
	ecSig, _ := ecdsa.SignASN1(rand.Reader, ecPriv, digest[:])
	rsaSig, _ := rsa.SignPSS(rand.Reader, rsaPriv, crypto.SHA256, digest[:], nil)
	for _, tc := range []struct {
		typ string
		pub any
		sig []byte
	}{
		{"ecdsa-p384", &ecPriv.PublicKey, ecSig},
		{"ed25519", edPub, ed25519.Sign(edPriv, msg)},
		{"rsa-2048", &rsaPriv.PublicKey, rsaSig},
	} {
		name := "pub-" + tc.typ
		e.write("keys/"+name+"/import", map[string]any{"type": tc.typ, "public_key": pemPublic(t, tc.pub), "exportable": true})
		for round, b := range []*Backend{e.b, e.open(-1)} {
			e.b = b
			verify := map[string]any{"input": base64.StdEncoding.EncodeToString(msg), "signature": "vault:v1:" + base64.StdEncoding.EncodeToString(tc.sig)}
			if v := e.write("verify/"+name, verify)["valid"]; v != true {
				t.Fatalf("%s (round %d): an outside signature does not verify: %v", tc.typ, round, v)
			}
			verify["input"] = base64.StdEncoding.EncodeToString([]byte("other"))
			if v := e.write("verify/"+name, verify)["valid"]; v != false {
				t.Fatalf("%s: verified a signature over another message", tc.typ)
			}
			e.fails("sign/"+name, map[string]any{"input": b64("x")}, "imported from its public key only: it cannot sign")
			if _, err := e.req(logical.ReadOperation, "export/signing-key/"+name, nil); err == nil || !strings.Contains(err.Error(), "public key only") {
				t.Fatalf("%s: private-key export of a public-only key: %v", tc.typ, err)
			}
			keys := e.read("export/public-key/" + name)["keys"].(map[string]string)
			if keys["1"] == "" {
				t.Fatalf("%s: public-key export = %v", tc.typ, keys)
			}
		}
	}
	// RSA encrypts for the outside private key, and cannot decrypt.
	ct := e.encrypt("pub-rsa-2048", "for the holder", nil)
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(ct, "vault:v1:"))
	plain, err := rsa.DecryptOAEP(sha256.New(), nil, rsaPriv, raw, nil)
	if err != nil || string(plain) != "for the holder" {
		t.Fatalf("outside decrypt = %q, %v", plain, err)
	}
	e.fails("decrypt/pub-rsa-2048", map[string]any{"ciphertext": ct}, "it cannot decrypt")

	// A new public version signs as v2.
	ec2, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	e.write("keys/pub-ecdsa-p384/import_version", map[string]any{"public_key": pemPublic(t, &ec2.PublicKey)})
	sig2, _ := ecdsa.SignASN1(rand.Reader, ec2, digest[:])
	if v := e.write("verify/pub-ecdsa-p384", map[string]any{"input": base64.StdEncoding.EncodeToString(msg),
		"signature": "vault:v2:" + base64.StdEncoding.EncodeToString(sig2)})["valid"]; v != true {
		t.Fatal("a signature of the imported version 2 does not verify")
	}
}

func TestImportPublicKeyRefused(t *testing.T) {
	e := newEnv(t)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p256 := pemPublic(t, &ecPriv.PublicKey)
	for _, tc := range []struct {
		name string
		data map[string]any
		want string
	}{
		{"no material", map[string]any{"type": "ecdsa-p256"}, "missing ciphertext (wrapped key material) or public_key"},
		{"symmetric type", map[string]any{"type": "aes256-gcm96", "public_key": p256}, "symmetric key type"},
		{"wrong curve", map[string]any{"type": "ecdsa-p384", "public_key": p256}, "not a ecdsa-p384 key"},
		{"wrong family", map[string]any{"type": "rsa-2048", "public_key": p256}, "not a rsa-2048 key"},
		{"not pem", map[string]any{"type": "ecdsa-p256", "public_key": "MFkwEwYHKoZIzj0CAQ"}, "PEM"},
		{"private pem", map[string]any{"type": "ecdsa-p256", "public_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}, "PEM \"PUBLIC KEY\""},
		{"rotation", map[string]any{"type": "ecdsa-p256", "public_key": p256, "allow_rotation": true}, "need the private key"},
		{"derived", map[string]any{"type": "ed25519", "public_key": p256, "derived": true}, "need the private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.fails("keys/k/import", tc.data, tc.want)
			if resp, err := e.req(logical.ReadOperation, "keys/k", nil); err != nil || resp != nil {
				t.Fatalf("a refused import left a key: %v, %v", resp, err)
			}
		})
	}
}

// FuzzPublicVersion feeds arbitrary text as an imported public key: it is
// refused with an invalid-request error or accepted as a key of the asked
// type that survives a round trip through storage's form.
func FuzzPublicVersion(f *testing.F) {
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	for _, pub := range []any{&ecPriv.PublicKey, edPub} {
		der, _ := x509.MarshalPKIXPublicKey(pub)
		f.Add("ecdsa-p256", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
		f.Add("ed25519", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
	}
	f.Add("rsa-2048", "-----BEGIN PUBLIC KEY-----\n\n-----END PUBLIC KEY-----\n")
	f.Add("aes256-gcm96", "")
	f.Fuzz(func(t *testing.T, typ, pemKey string) {
		kt, err := parseKeyType(typ)
		if err != nil {
			return
		}
		k, err := publicVersion(kt, pemKey, time.Unix(0, 0))
		if err != nil {
			if logical.KindOf(err) != logical.KindInvalidRequest {
				t.Fatalf("publicVersion(%s) error of kind %v: %v", typ, logical.KindOf(err), err)
			}
			return
		}
		if !publicKeyOfType(kt, k.public()) {
			t.Fatalf("accepted a %T as %s", k.public(), typ)
		}
		stored := &keyVersion{PublicKey: k.PublicKey, HMACKey: k.HMACKey}
		if err := stored.prepare(kt); err != nil || !k.publicOnly() {
			t.Fatalf("stored form of an accepted %s key does not prepare: %v", typ, err)
		}
	})
}
