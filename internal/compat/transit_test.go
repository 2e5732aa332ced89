package compat

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/keywrap"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

func b64s(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// startTransit starts a server with transit mounted at transit/.
func startTransit(t testing.TB) *servertest.Instance {
	t.Helper()
	in := servertest.Start(t, servertest.Options{})
	if err := in.Client.Sys().Mount("transit", &vaultapi.MountInput{Type: "transit"}); err != nil {
		t.Fatalf("mount transit: %v", err)
	}
	return in
}

func TestTransit(t *testing.T) {
	in := startTransit(t)
	lg := in.Client.Logical()
	const secret = "transit-plaintext-7f3a9c"

	if _, err := lg.Write("transit/keys/app", map[string]any{"type": "aes256-gcm96"}); err != nil {
		t.Fatal(err)
	}
	enc, err := lg.Write("transit/encrypt/app", map[string]any{"plaintext": b64s(secret)})
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := enc.Data["ciphertext"].(string)
	if !strings.HasPrefix(ct, "vault:v1:") {
		t.Fatalf("encrypt = %v", enc.Data)
	}
	dec, err := lg.Write("transit/decrypt/app", map[string]any{"ciphertext": ct})
	if err != nil || dec.Data["plaintext"] != b64s(secret) {
		t.Fatalf("decrypt = %v, %v", dec, err)
	}

	key, err := lg.Read("transit/keys/app")
	if err != nil || key.Data["latest_version"] == nil || key.Data["type"] != "aes256-gcm96" {
		t.Fatalf("read key = %v, %v", key, err)
	}
	list, err := lg.List("transit/keys")
	if err != nil || len(list.Data["keys"].([]any)) != 1 {
		t.Fatalf("list keys = %v, %v", list, err)
	}

	if _, err := lg.Write("transit/keys/app/rotate", nil); err != nil {
		t.Fatal(err)
	}
	rw, err := lg.Write("transit/rewrap/app", map[string]any{"ciphertext": ct})
	if err != nil || !strings.HasPrefix(rw.Data["ciphertext"].(string), "vault:v2:") {
		t.Fatalf("rewrap = %v, %v", rw, err)
	}
	if _, err := lg.Write("transit/keys/app/config", map[string]any{"min_decryption_version": 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := lg.Write("transit/decrypt/app", map[string]any{"ciphertext": ct}); !isStatus(err, 400) {
		t.Fatalf("decrypt below min_decryption_version: %v; want 400", err)
	}

	batch, err := lg.Write("transit/encrypt/app", map[string]any{"batch_input": []map[string]any{
		{"plaintext": b64s("a"), "reference": "one"}, {"plaintext": b64s("b")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res := batch.Data["batch_results"].([]any); len(res) != 2 || res[0].(map[string]any)["reference"] != "one" {
		t.Fatalf("batch results = %v", res)
	}
	// A batch with a failed item answers 400 with every item's result, as Vault.
	partial := `{"batch_input":[{"plaintext":"` + b64s("a") + `","reference":"one"},{"plaintext":"%%"}]}`
	if _, err := lg.Write("transit/encrypt/app", map[string]any{"batch_input": []map[string]any{{"plaintext": "%%"}}}); !isStatus(err, 400) {
		t.Fatalf("batch with a bad item through the client: %v; want 400", err)
	}
	r := rawDo(t, in, "POST", "/v1/transit/encrypt/app", in.RootToken, strings.NewReader(partial))
	if r.StatusCode != 400 || !strings.Contains(r.Body, `"reference":"one"`) || !strings.Contains(r.Body, `"ciphertext":"vault:v`) || !strings.Contains(r.Body, `"error"`) {
		t.Fatalf("partial batch = %d %s", r.StatusCode, r.Body)
	}

	dk, err := lg.Write("transit/datakey/plaintext/app", map[string]any{"bits": 512})
	if err != nil || dk.Data["plaintext"] == nil || dk.Data["ciphertext"] == nil {
		t.Fatalf("datakey = %v, %v", dk, err)
	}
	if _, err := lg.Delete("transit/keys/app"); !isStatus(err, 400) {
		t.Fatalf("delete without deletion_allowed: %v; want 400", err)
	}
	in.CheckNoLeaks(t, secret)
}

func TestTransitSignVerifyHMAC(t *testing.T) {
	in := startTransit(t)
	lg := in.Client.Logical()
	for _, typ := range []string{"ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048", "rsa-3072"} {
		t.Run(typ, func(t *testing.T) {
			if _, err := lg.Write("transit/keys/"+typ, map[string]any{"type": typ}); err != nil {
				t.Fatal(err)
			}
			sig, err := lg.Write("transit/sign/"+typ+"/sha2-256", map[string]any{"input": b64s("msg")})
			if err != nil {
				t.Fatal(err)
			}
			v, err := lg.Write("transit/verify/"+typ+"/sha2-256", map[string]any{"input": b64s("msg"), "signature": sig.Data["signature"]})
			if err != nil || v.Data["valid"] != true {
				t.Fatalf("verify = %v, %v", v, err)
			}
			pub, err := lg.Read("transit/export/public-key/" + typ)
			if err != nil || pub.Data["keys"] == nil {
				t.Fatalf("public key export = %v, %v", pub, err)
			}
		})
	}
	// aes128-gcm96 encrypts and decrypts like aes256-gcm96.
	if _, err := lg.Write("transit/keys/a128", map[string]any{"type": "aes128-gcm96"}); err != nil {
		t.Fatal(err)
	}
	ct, err := lg.Write("transit/encrypt/a128", map[string]any{"plaintext": b64s("short key")})
	if err != nil {
		t.Fatal(err)
	}
	pt, err := lg.Write("transit/decrypt/a128", map[string]any{"ciphertext": ct.Data["ciphertext"]})
	if err != nil || pt.Data["plaintext"] != b64s("short key") {
		t.Fatalf("aes128 decrypt = %v, %v", pt, err)
	}
	mac, err := lg.Write("transit/hmac/ed25519", map[string]any{"input": b64s("msg")})
	if err != nil {
		t.Fatal(err)
	}
	v, err := lg.Write("transit/verify/ed25519", map[string]any{"input": b64s("msg"), "hmac": mac.Data["hmac"]})
	if err != nil || v.Data["valid"] != true {
		t.Fatalf("verify hmac = %v, %v", v, err)
	}
	if _, err := lg.Read("transit/export/signing-key/ed25519"); !isStatus(err, 400) {
		t.Fatalf("export of a non-exportable key: %v; want 400", err)
	}
	r, err := lg.Write("transit/random/16", map[string]any{"format": "hex"})
	if err != nil || len(r.Data["random_bytes"].(string)) != 32 {
		t.Fatalf("random = %v, %v", r, err)
	}
	h, err := lg.Write("transit/hash/sha2-256", map[string]any{"input": b64s("abc")})
	if err != nil || h.Data["sum"] != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("hash = %v, %v", h, err)
	}
}

func TestTransitBackupRestore(t *testing.T) {
	in := startTransit(t)
	lg := in.Client.Logical()
	if _, err := lg.Write("transit/keys/k", map[string]any{"exportable": true, "allow_plaintext_backup": true}); err != nil {
		t.Fatal(err)
	}
	enc, err := lg.Write("transit/encrypt/k", map[string]any{"plaintext": b64s("keep")})
	if err != nil {
		t.Fatal(err)
	}
	bk, err := lg.Read("transit/backup/k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lg.Write("transit/restore/k2", map[string]any{"backup": bk.Data["backup"]}); err != nil {
		t.Fatal(err)
	}
	dec, err := lg.Write("transit/decrypt/k2", map[string]any{"ciphertext": enc.Data["ciphertext"]})
	if err != nil || dec.Data["plaintext"] != b64s("keep") {
		t.Fatalf("decrypt with restored key = %v, %v", dec, err)
	}
}

// TestTransitPolicy: a token allowed only to encrypt cannot decrypt, and
// encrypting to a missing key needs create (upsert).
func TestTransitPolicy(t *testing.T) {
	in := startTransit(t)
	lg := in.Client.Logical()
	if _, err := lg.Write("transit/keys/prod-eu", nil); err != nil {
		t.Fatal(err)
	}
	if err := in.Client.Sys().PutPolicy("encrypt-only", `path "transit/encrypt/*" { capabilities = ["update"] }`); err != nil {
		t.Fatal(err)
	}
	tok := createToken(t, in, &vaultapi.TokenCreateRequest{Policies: []string{"encrypt-only"}})
	c := in.NewClient(t, tok)
	enc, err := c.Logical().Write("transit/encrypt/prod-eu", map[string]any{"plaintext": b64s("x")})
	if err != nil {
		t.Fatalf("encrypt with update: %v", err)
	}
	if _, err := c.Logical().Write("transit/decrypt/prod-eu", map[string]any{"ciphertext": enc.Data["ciphertext"]}); !isStatus(err, 403) {
		t.Fatalf("decrypt without a grant: %v; want 403", err)
	}
	if _, err := c.Logical().Write("transit/encrypt/new-key", map[string]any{"plaintext": b64s("x")}); !isStatus(err, 403) {
		t.Fatalf("upsert without create: %v; want 403", err)
	}

	// As in Vault, creating a key through keys/:name needs only update.
	if err := in.Client.Sys().PutPolicy("key-admin", `path "transit/keys/*" { capabilities = ["update", "read"] }`); err != nil {
		t.Fatal(err)
	}
	admin := in.NewClient(t, createToken(t, in, &vaultapi.TokenCreateRequest{Policies: []string{"key-admin"}}))
	if _, err := admin.Logical().Write("transit/keys/made-with-update", nil); err != nil {
		t.Fatalf("create a key with update only: %v", err)
	}
}

func benchTransitHTTP(b *testing.B, path string, data map[string]any) {
	in := startTransit(b)
	lg := in.Client.Logical()
	if _, err := lg.Write("transit/keys/bench", nil); err != nil {
		b.Fatal(err)
	}
	if strings.HasPrefix(path, "transit/decrypt/") {
		data = decryptInput(b, lg, data)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lg.Write(path, data); err != nil {
			b.Fatal(err)
		}
	}
}

// decryptInput turns encrypt input into decrypt input.
func decryptInput(b *testing.B, lg *vaultapi.Logical, data map[string]any) map[string]any {
	out, err := lg.Write("transit/encrypt/bench", data)
	if err != nil {
		b.Fatal(err)
	}
	if res, ok := out.Data["batch_results"].([]any); ok {
		items := make([]map[string]any, len(res))
		for i, r := range res {
			items[i] = map[string]any{"ciphertext": r.(map[string]any)["ciphertext"]}
		}
		return map[string]any{"batch_input": items}
	}
	return map[string]any{"ciphertext": out.Data["ciphertext"]}
}

func BenchmarkTransitHTTP(b *testing.B) {
	small := map[string]any{"plaintext": base64.StdEncoding.EncodeToString(make([]byte, 64))}
	large := map[string]any{"plaintext": base64.StdEncoding.EncodeToString(make([]byte, 4096))}
	items := make([]map[string]any, 100)
	for i := range items {
		items[i] = map[string]any{"plaintext": small["plaintext"]}
	}
	batch := map[string]any{"batch_input": items}
	for _, tc := range []struct {
		name string
		data map[string]any
	}{{"64B", small}, {"4KiB", large}, {"batch100", batch}} {
		b.Run("encrypt/"+tc.name, func(b *testing.B) { benchTransitHTTP(b, "transit/encrypt/bench", tc.data) })
		b.Run("decrypt/"+tc.name, func(b *testing.B) { benchTransitHTTP(b, "transit/decrypt/bench", tc.data) })
	}
}

// TestTransitImport: Vault's BYOK layout over HTTP: the wrapping key is
// RSA-4096, the ciphertext is the 512-byte RSA-OAEP(SHA-256) wrapped
// AES key then the RFC 5649 wrapped key; the imported key then encrypts
// as that key does outside.
func TestTransitImport(t *testing.T) {
	in := startTransit(t)
	lg := in.Client.Logical()
	s, err := lg.Read("transit/wrapping_key")
	if err != nil || s == nil {
		t.Fatalf("wrapping_key = %v, %v", s, err)
	}
	block, _ := pem.Decode([]byte(s.Data["public_key"].(string)))
	if block == nil {
		t.Fatal("wrapping_key is not PEM")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok || rsaPub.N.BitLen() != 4096 {
		t.Fatalf("wrapping key = %T; want RSA-4096", pub)
	}
	target := make([]byte, 32)
	rand.Read(target)
	envelope, err := keywrap.ForImport(rsaPub, sha256.New, target)
	if err != nil {
		t.Fatal(err)
	}
	if len(envelope) != 512+40 { // RSA-4096 block, then 32 bytes wrapped into 40
		t.Fatalf("the import ciphertext is %d bytes", len(envelope))
	}
	ct := base64.StdEncoding.EncodeToString(envelope)
	if _, err := lg.Write("transit/keys/byok/import", map[string]any{"ciphertext": ct, "hash_function": "SHA256"}); err != nil {
		t.Fatalf("import: %v", err)
	}
	if _, err := lg.Write("transit/keys/byok/import", map[string]any{"ciphertext": ct}); !isStatus(err, 400) {
		t.Fatalf("second import: %v; want 400", err)
	}
	enc, err := lg.Write("transit/encrypt/byok", map[string]any{"plaintext": b64s("byok plaintext")})
	if err != nil {
		t.Fatal(err)
	}
	body, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(enc.Data["ciphertext"].(string), "vault:v1:"))
	if err != nil {
		t.Fatal(err)
	}
	aesBlock, _ := aes.NewCipher(target)
	gcm, _ := cipher.NewGCM(aesBlock)
	if plain, err := gcm.Open(nil, body[:12], body[12:], nil); err != nil || string(plain) != "byok plaintext" {
		t.Fatalf("the ciphertext does not open with the imported key: %q, %v", plain, err)
	}
	key, err := lg.Read("transit/keys/byok")
	if err != nil || key.Data["imported_key"] != true {
		t.Fatalf("key = %v, %v", key, err)
	}
}

// TestTransitImportPublicKey: a key imported from its PEM public key
// verifies a signature made outside, and refuses to sign.
func TestTransitImportPublicKey(t *testing.T) {
	in := startTransit(t)
	lg := in.Client.Logical()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if _, err := lg.Write("transit/keys/partner/import", map[string]any{"type": "ecdsa-p256", "public_key": pemKey}); err != nil {
		t.Fatalf("public key import: %v", err)
	}
	digest := sha256.Sum256([]byte("partner message"))
	sig, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	v, err := lg.Write("transit/verify/partner", map[string]any{"input": b64s("partner message"),
		"signature": "vault:v1:" + base64.StdEncoding.EncodeToString(sig)})
	if err != nil || v.Data["valid"] != true {
		t.Fatalf("verify = %v, %v", v, err)
	}
	if _, err := lg.Write("transit/sign/partner", map[string]any{"input": b64s("x")}); !isStatus(err, 400) {
		t.Fatalf("sign with a public-only key: %v; want 400", err)
	}
}
