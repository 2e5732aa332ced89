package transit

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
)

func TestSignVerify(t *testing.T) {
	e := newEnv(t)
	for _, typ := range []string{"ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048", "rsa-3072", "rsa-4096"} {
		e.write("keys/"+typ, map[string]any{"type": typ})
	}
	e.write("keys/ed-derived", map[string]any{"type": "ed25519", "derived": true})
	digest := sha256.Sum256([]byte("message"))
	for _, tc := range []struct {
		name, key, path string
		opts            map[string]any
	}{
		{"ed25519", "ed25519", "sign/ed25519", nil},
		{"ed25519 jws", "ed25519", "sign/ed25519", map[string]any{"marshaling_algorithm": "jws"}},
		{"ed25519 derived", "ed-derived", "sign/ed-derived", map[string]any{"context": b64("c1")}},
		{"ecdsa asn1", "ecdsa-p256", "sign/ecdsa-p256", nil},
		{"ecdsa jws", "ecdsa-p256", "sign/ecdsa-p256", map[string]any{"marshaling_algorithm": "jws"}},
		{"ecdsa sha2-384 in url", "ecdsa-p256", "sign/ecdsa-p256/sha2-384", nil},
		{"ecdsa sha3-256", "ecdsa-p256", "sign/ecdsa-p256", map[string]any{"hash_algorithm": "sha3-256"}},
		{"ecdsa prehashed", "ecdsa-p256", "sign/ecdsa-p256", map[string]any{"prehashed": true, "input": base64.StdEncoding.EncodeToString(digest[:])}},
		{"ecdsa p384 asn1", "ecdsa-p384", "sign/ecdsa-p384/sha2-384", nil},
		{"ecdsa p384 jws", "ecdsa-p384", "sign/ecdsa-p384", map[string]any{"marshaling_algorithm": "jws"}},
		{"ecdsa p521 asn1", "ecdsa-p521", "sign/ecdsa-p521/sha2-512", nil},
		{"ecdsa p521 jws", "ecdsa-p521", "sign/ecdsa-p521", map[string]any{"marshaling_algorithm": "jws"}},
		{"rsa-3072 pss", "rsa-3072", "sign/rsa-3072", nil},
		{"rsa pss", "rsa-2048", "sign/rsa-2048", nil},
		{"rsa pss hash salt", "rsa-2048", "sign/rsa-2048", map[string]any{"salt_length": "hash"}},
		{"rsa pkcs1v15", "rsa-2048", "sign/rsa-2048", map[string]any{"signature_algorithm": "pkcs1v15"}},
		{"rsa pkcs1v15 sha2-512", "rsa-4096", "sign/rsa-4096/sha2-512", map[string]any{"signature_algorithm": "pkcs1v15"}},
		{"rsa prehashed", "rsa-4096", "sign/rsa-4096", map[string]any{"prehashed": true, "input": base64.StdEncoding.EncodeToString(digest[:])}},
		{"rsa sha1", "rsa-2048", "sign/rsa-2048", map[string]any{"hash_algorithm": "sha1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := map[string]any{"input": b64("message")}
			for k, v := range tc.opts {
				data[k] = v
			}
			out := e.write(tc.path, data)
			sig := out["signature"].(string)
			if !strings.HasPrefix(sig, "vault:v1:") || out["key_version"] != 1 {
				t.Fatalf("sign = %v", out)
			}
			vpath := "verify/" + strings.TrimPrefix(tc.path, "sign/")
			data["signature"] = sig
			if v := e.write(vpath, data)["valid"]; v != true {
				t.Fatalf("verify of a fresh signature = %v", v)
			}
			if data["prehashed"] == true {
				other := sha256.Sum256([]byte("other"))
				data["input"] = base64.StdEncoding.EncodeToString(other[:])
			} else {
				data["input"] = b64("other message")
			}
			if v := e.write(vpath, data)["valid"]; v != false {
				t.Fatalf("verify of another message = %v", v)
			}
		})
	}
	// A derived ed25519 signature does not verify under another context.
	sig := e.write("sign/ed-derived", map[string]any{"input": b64("m"), "context": b64("c1")})["signature"]
	if v := e.write("verify/ed-derived", map[string]any{"input": b64("m"), "context": b64("c2"), "signature": sig})["valid"]; v != false {
		t.Fatal("derived signature verified under another context")
	}
}

func TestSignErrors(t *testing.T) {
	e := newEnv(t)
	e.write("keys/aes", nil)
	e.write("keys/ec", map[string]any{"type": "ecdsa-p256"})
	for _, tc := range []struct {
		path string
		data map[string]any
		want string
	}{
		{"sign/aes", map[string]any{"input": b64("x")}, "signing not supported"},
		{"sign/ec", map[string]any{"input": b64("x"), "hash_algorithm": "md5"}, "unsupported hash algorithm"},
		{"sign/ec", map[string]any{"input": b64("x"), "marshaling_algorithm": "der"}, "invalid marshaling"},
		{"sign/ec", map[string]any{"input": b64("x"), "prehashed": true}, "prehashed input must be 32 bytes"},
		{"sign/ec", map[string]any{}, "missing input"},
		{"verify/ec", map[string]any{"input": b64("x")}, "neither"},
		{"verify/ec", map[string]any{"input": b64("x"), "signature": "sig"}, "invalid signature: no prefix"},
		{"verify/ec", map[string]any{"input": b64("x"), "signature": "vault:v1:!!"}, "invalid base64 signature"},
	} {
		t.Run(tc.path+" "+tc.want, func(t *testing.T) { e.fails(tc.path, tc.data, tc.want) })
	}
}

func TestSignMinVersions(t *testing.T) {
	e := newEnv(t)
	e.write("keys/ed", map[string]any{"type": "ed25519"})
	old := e.write("sign/ed", map[string]any{"input": b64("m")})["signature"]
	e.write("keys/ed/rotate", nil)
	e.write("keys/ed/config", map[string]any{"min_decryption_version": 2, "min_encryption_version": 2})
	e.fails("verify/ed", map[string]any{"input": b64("m"), "signature": old}, errTooOld)
	e.fails("sign/ed", map[string]any{"input": b64("m"), "key_version": 1}, "minimum encryption key version")
	out := e.write("sign/ed", map[string]any{"batch_input": []any{
		map[string]any{"input": b64("m"), "reference": "a"}, map[string]any{"input": "@@"},
	}})["batch_results"].([]map[string]any)
	if out[0]["key_version"] != 2 || out[0]["reference"] != "a" || out[1]["error"] == nil {
		t.Fatalf("sign batch = %v", out)
	}
	ver := e.write("verify/ed", map[string]any{"batch_input": []any{
		map[string]any{"input": b64("m"), "signature": out[0]["signature"]},
		map[string]any{"input": b64("m"), "signature": old},
	}})["batch_results"].([]map[string]any)
	if ver[0]["valid"] != true || ver[1]["error"] != errTooOld {
		t.Fatalf("verify batch = %v", ver)
	}
}

func TestHMAC(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", map[string]any{"exportable": true})
	mac := e.write("hmac/k", map[string]any{"input": b64("data")})["hmac"].(string)
	if !strings.HasPrefix(mac, "vault:v1:") {
		t.Fatalf("hmac = %q", mac)
	}
	if again := e.write("hmac/k", map[string]any{"input": b64("data")})["hmac"]; again != mac {
		t.Fatal("hmac is not deterministic")
	}
	if other := e.write("hmac/k/sha2-512", map[string]any{"input": b64("data")})["hmac"]; other == mac {
		t.Fatal("sha2-512 in the URL gave the sha2-256 hmac")
	}
	for _, tc := range []struct {
		input, mac, alg string
		valid           bool
	}{
		{b64("data"), mac, "", true},
		{b64("datum"), mac, "", false},
		{b64("data"), mac, "sha2-512", false},
	} {
		d := map[string]any{"input": tc.input, "hmac": tc.mac}
		if tc.alg != "" {
			d["algorithm"] = tc.alg
		}
		if v := e.write("verify/k", d)["valid"]; v != tc.valid {
			t.Fatalf("verify hmac %v = %v; want %v", d, v, tc.valid)
		}
	}
	e.write("keys/k/rotate", nil)
	e.write("keys/k/config", map[string]any{"min_decryption_version": 2})
	e.fails("verify/k", map[string]any{"input": b64("data"), "hmac": mac}, "too old")
	e.fails("hmac/k/md4", map[string]any{"input": b64("data")}, "unsupported hash")
	batch := e.write("hmac/k", map[string]any{"batch_input": []any{map[string]any{"input": b64("a")}, map[string]any{}}})
	if r := batch["batch_results"].([]map[string]any); r[0]["hmac"] == nil || r[1]["error"] != "missing input for HMAC" {
		t.Fatalf("hmac batch = %v", r)
	}
}

// TestECDSAJWSLayout checks each curve's JWS signature against the standard
// library: r||s, each as long as the curve's scalar (32, 48 and 66 bytes),
// over SHA-256 of the input by default, verifiable with the public key a
// key read shows.
func TestECDSAJWSLayout(t *testing.T) {
	e := newEnv(t)
	for typ, size := range map[string]int{"ecdsa-p256": 32, "ecdsa-p384": 48, "ecdsa-p521": 66} {
		t.Run(typ, func(t *testing.T) {
			e.write("keys/jws-"+typ, map[string]any{"type": typ})
			pemKey := e.read("keys/jws-" + typ)["keys"].(map[string]any)["1"].(map[string]any)["public_key"].(string)
			block, _ := pem.Decode([]byte(pemKey))
			if block == nil {
				t.Fatalf("public key %q is not PEM", pemKey)
			}
			parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			pub := parsed.(*ecdsa.PublicKey)
			sig := e.write("sign/jws-"+typ, map[string]any{"input": b64("jws"), "marshaling_algorithm": "jws"})["signature"].(string)
			raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sig, "vault:v1:"))
			if err != nil || len(raw) != 2*size {
				t.Fatalf("signature %q: %d bytes, %v; want %d", sig, len(raw), err, 2*size)
			}
			digest := sha256.Sum256([]byte("jws"))
			r, s := new(big.Int).SetBytes(raw[:size]), new(big.Int).SetBytes(raw[size:])
			if !ecdsa.Verify(pub, digest[:], r, s) {
				t.Fatal("the JWS signature does not verify with the standard library")
			}
		})
	}
}
