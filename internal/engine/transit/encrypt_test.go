package transit

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/cofferdev/coffer/internal/logical"
)

// exported returns version 1's raw encryption key of an exportable key.
func (e *env) exported(name string) []byte {
	e.t.Helper()
	keys := e.read("export/encryption-key/" + name + "/1")["keys"].(map[string]string)
	k, err := base64.StdEncoding.DecodeString(keys["1"])
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

// TestCiphertextLayout decrypts transit's output with the standard library
// alone, from Vault's documented layout: "vault:v1:" + base64(nonce(12) ||
// ciphertext || tag(16)). A Vault ciphertext made with the same key thus
// decrypts here, and the reverse.
func TestCiphertextLayout(t *testing.T) {
	e := newEnv(t)
	for _, typ := range []string{"aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"} {
		t.Run(typ, func(t *testing.T) {
			e.write("keys/"+typ, map[string]any{"type": typ, "exportable": true})
			key := e.exported(typ)
			if want := map[string]int{"aes128-gcm96": 16}[typ]; want != 0 && len(key) != want || want == 0 && len(key) != 32 {
				t.Fatalf("%s key of %d bytes", typ, len(key))
			}
			var aead cipher.AEAD
			if strings.HasPrefix(typ, "aes") {
				block, _ := aes.NewCipher(key)
				aead, _ = cipher.NewGCM(block)
			} else {
				aead, _ = chacha20poly1305.New(key)
			}
			ct := e.encrypt(typ, "layout check", nil)
			raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(ct, "vault:v1:"))
			if err != nil || len(raw) != 12+len("layout check")+16 {
				t.Fatalf("ciphertext %q: %d bytes, %v", ct, len(raw), err)
			}
			plain, err := aead.Open(nil, raw[:12], raw[12:], nil)
			if err != nil || string(plain) != "layout check" {
				t.Fatalf("stdlib decrypt = %q, %v", plain, err)
			}
			// And the reverse: a ciphertext sealed outside decrypts inside.
			nonce := make([]byte, 12)
			outside := "vault:v1:" + base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte("from vault"), nil))
			if got := e.decrypt(typ, outside, nil); got != "from vault" {
				t.Fatalf("decrypt of an outside ciphertext = %q", got)
			}
		})
	}
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	e := newEnv(t)
	for _, typ := range []string{"aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "rsa-2048", "rsa-3072"} {
		t.Run(typ, func(t *testing.T) {
			e.write("keys/rt-"+typ, map[string]any{"type": typ})
			for _, msg := range []string{"", "x", strings.Repeat("y", 100)} {
				ct := e.encrypt("rt-"+typ, msg, nil)
				if got := e.decrypt("rt-"+typ, ct, nil); got != msg {
					t.Fatalf("round trip of %q = %q", msg, got)
				}
			}
			ct := e.encrypt("rt-"+typ, "tamper", nil)
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(ct, "vault:v1:"))
			raw[len(raw)-1] ^= 1
			e.fails("decrypt/rt-"+typ, map[string]any{"ciphertext": "vault:v1:" + base64.StdEncoding.EncodeToString(raw)}, "")
		})
	}
	e.write("keys/sig", map[string]any{"type": "ed25519"})
	e.fails("encrypt/sig", map[string]any{"plaintext": b64("x")}, "not supported for key type ed25519")
}

func TestEncryptErrors(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", nil)
	for _, tc := range []struct {
		path string
		data map[string]any
		want string
	}{
		{"encrypt/k", map[string]any{}, "missing plaintext"},
		{"encrypt/k", map[string]any{"plaintext": "%%%"}, "base64"},
		{"encrypt/k", map[string]any{"plaintext": b64("x"), "nonce": b64("123456789012")}, "nonce provided"},
		{"decrypt/k", map[string]any{}, "missing ciphertext"},
		{"decrypt/k", map[string]any{"ciphertext": "abc"}, "invalid ciphertext: no prefix"},
		{"decrypt/k", map[string]any{"ciphertext": "vault:v1"}, "wrong number of fields"},
		{"decrypt/k", map[string]any{"ciphertext": "vault:vX:AAAA"}, "version number could not be decoded"},
		{"decrypt/k", map[string]any{"ciphertext": "vault:v1:!!!"}, "could not decode base64"},
		{"decrypt/k", map[string]any{"ciphertext": "vault:v1:AAAA"}, "invalid ciphertext length"},
		{"decrypt/missing", map[string]any{"ciphertext": "vault:v1:AAAA"}, "encryption key not found"},
		{"encrypt/missing", map[string]any{"plaintext": b64("x")}, "encryption key not found"},
	} {
		t.Run(tc.path+" "+tc.want, func(t *testing.T) { e.fails(tc.path, tc.data, tc.want) })
	}
}

func TestEncryptUpsert(t *testing.T) {
	e := newEnv(t)
	resp, err := e.req(logical.CreateOperation, "encrypt/new", map[string]any{"plaintext": b64("x"), "context": b64("c")})
	if err != nil || !strings.HasPrefix(resp.Data["ciphertext"].(string), "vault:v1:") {
		t.Fatalf("upsert encrypt = %v, %v", resp, err)
	}
	if d := e.read("keys/new"); d["derived"] != true || d["type"] != "aes256-gcm96" {
		t.Fatalf("upserted key = %v; want derived (a context was given)", d)
	}
	checked, exists, err := e.b.Exists(t.Context(), &logical.Request{Operation: logical.CreateOperation, Path: "encrypt/other"})
	if !checked || exists || err != nil {
		t.Fatalf("Exists(encrypt/other) = %v %v %v; want a create", checked, exists, err)
	}
}

func TestDerivedKeys(t *testing.T) {
	e := newEnv(t)
	e.write("keys/d", map[string]any{"derived": true})
	e.fails("encrypt/d", map[string]any{"plaintext": b64("x")}, "missing 'context'")
	ct := e.encrypt("d", "tenant data", map[string]any{"context": b64("tenant-1")})
	if got := e.decrypt("d", ct, map[string]any{"context": b64("tenant-1")}); got != "tenant data" {
		t.Fatalf("derived round trip = %q", got)
	}
	e.fails("decrypt/d", map[string]any{"ciphertext": ct, "context": b64("tenant-2")}, "message authentication failed")
	if d := e.read("keys/d"); d["kdf"] != "hkdf_sha256" || d["convergent_encryption"] != false {
		t.Fatalf("derived read = %v", d)
	}
}

// TestConvergentEncryption checks determinism and Vault's version-3 nonce
// derivation, recomputed here from the exported key: the key size plus 32
// bytes of HKDF-SHA256(key, salt=nil, info=context); AEAD key = the first
// key-size bytes, nonce = HMAC-SHA256(the last 32, plaintext)[:12].
func TestConvergentEncryption(t *testing.T) {
	for typ, size := range map[string]int{"aes256-gcm96": 32, "aes128-gcm96": 16} {
		t.Run(typ, func(t *testing.T) {
			e := newEnv(t)
			e.write("keys/c", map[string]any{"type": typ, "derived": true, "convergent_encryption": true, "exportable": true})
			ctx1 := map[string]any{"context": b64("ctx-1")}
			a := e.encrypt("c", "same", ctx1)
			if b := e.encrypt("c", "same", ctx1); a != b {
				t.Fatalf("same plaintext and context gave %q and %q", a, b)
			}
			if b := e.encrypt("c", "same", map[string]any{"context": b64("ctx-2")}); a == b {
				t.Fatal("a different context gave the same ciphertext")
			}
			if b := e.encrypt("c", "other", ctx1); a == b {
				t.Fatal("a different plaintext gave the same ciphertext")
			}
			derived, err := hkdf.Key(sha256.New, e.exported("c"), nil, "ctx-1", size+32)
			if err != nil {
				t.Fatal(err)
			}
			mac := hmac.New(sha256.New, derived[size:])
			mac.Write([]byte("same"))
			nonce := mac.Sum(nil)[:12]
			block, _ := aes.NewCipher(derived[:size])
			gcm, _ := cipher.NewGCM(block)
			want := "vault:v1:" + base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte("same"), nil))
			if a != want {
				t.Fatalf("convergent ciphertext %q; want Vault's %q", a, want)
			}
			if got := e.decrypt("c", a, ctx1); got != "same" {
				t.Fatalf("decrypt = %q", got)
			}
			if d := e.read("keys/c"); d["convergent_encryption"] != true || d["convergent_encryption_version"] != -1 {
				t.Fatalf("convergent read = %v", d)
			}
		})
	}
}

func TestBatch(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", nil)
	out := e.write("encrypt/k", map[string]any{"batch_input": []any{
		map[string]any{"plaintext": b64("a"), "reference": "r1"},
		map[string]any{"plaintext": "not base64!"},
		map[string]any{"reference": "r3"},
		map[string]any{"plaintext": b64("d"), "key_version": 5},
	}})
	res := out["batch_results"].([]map[string]any)
	if len(res) != 4 || res[0]["reference"] != "r1" || res[0]["key_version"] != 1 || res[0]["error"] != nil {
		t.Fatalf("batch results = %v", res)
	}
	for i, want := range map[int]string{1: "base64", 2: "missing plaintext", 3: "higher than the latest"} {
		if msg, _ := res[i]["error"].(string); !strings.Contains(msg, want) || res[i]["ciphertext"] != nil {
			t.Fatalf("item %d = %v; want error %q", i, res[i], want)
		}
	}
	if res[2]["reference"] != "r3" {
		t.Fatalf("reference not echoed on error: %v", res[2])
	}
	dec := e.write("decrypt/k", map[string]any{"batch_input": []any{
		map[string]any{"ciphertext": res[0]["ciphertext"]},
		map[string]any{"ciphertext": "vault:v1:AAAA"},
	}})["batch_results"].([]map[string]any)
	if unb64(t, dec[0]["plaintext"].(string)) != "a" || dec[1]["error"] != "invalid ciphertext length" {
		t.Fatalf("decrypt batch = %v", dec)
	}
	rew := e.write("rewrap/k", map[string]any{"batch_input": []any{map[string]any{"ciphertext": res[0]["ciphertext"]}}})
	if r := rew["batch_results"].([]map[string]any); len(r) != 1 || r[0]["key_version"] != 1 {
		t.Fatalf("rewrap batch = %v", rew)
	}
	for _, bad := range []any{[]any{}, "nope", []any{"x"}, []any{map[string]any{"plaintext": 5.5}}, 3} {
		e.fails("encrypt/k", map[string]any{"batch_input": bad}, "batch input")
	}
	// A JSON string holding the array is accepted too.
	out = e.write("encrypt/k", map[string]any{"batch_input": `[{"plaintext":"` + b64("s") + `"}]`})
	if len(out["batch_results"].([]map[string]any)) != 1 {
		t.Fatalf("string batch = %v", out)
	}
}

func TestDatakey(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", nil)
	for _, bits := range []int{128, 256, 512} {
		d := e.write("datakey/plaintext/k", map[string]any{"bits": bits})
		key, _ := base64.StdEncoding.DecodeString(d["plaintext"].(string))
		if len(key) != bits/8 || d["key_version"] != 1 {
			t.Fatalf("bits %d: %v", bits, d)
		}
		if got := e.decrypt("k", d["ciphertext"].(string), nil); got != string(key) {
			t.Fatalf("bits %d: wrapped key does not decrypt to the plaintext key", bits)
		}
	}
	d := e.write("datakey/wrapped/k", nil)
	if _, ok := d["plaintext"]; ok || d["ciphertext"] == nil {
		t.Fatalf("wrapped datakey = %v", d)
	}
	e.fails("datakey/plaintext/k", map[string]any{"bits": 64}, "invalid bits")
	e.fails("datakey/plaintext/missing", nil, "not found")
}

func TestAssociatedData(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", nil)
	e.write("keys/r", map[string]any{"type": "rsa-2048"})
	ad := map[string]any{"associated_data": b64("row-42")}
	ct := e.encrypt("k", "bound", ad)
	if got := e.decrypt("k", ct, ad); got != "bound" {
		t.Fatalf("decrypt with the same associated data = %q", got)
	}
	e.fails("decrypt/k", map[string]any{"ciphertext": ct}, "message authentication failed")
	e.fails("decrypt/k", map[string]any{"ciphertext": ct, "associated_data": b64("row-43")}, "message authentication failed")
	e.fails("encrypt/r", map[string]any{"plaintext": b64("x"), "associated_data": b64("a")}, "associated data not supported")
}

// TestEachVersionKeepsItsOwnCipher checks that the cipher a version keeps
// after its first use is that version's: after a rotation, new ciphertexts
// use version 2, both versions decrypt their own, and a version-2
// ciphertext relabelled as version 1 fails authentication.
func TestEachVersionKeepsItsOwnCipher(t *testing.T) {
	e := newEnv(t)
	e.write("keys/k", nil)
	v1 := e.encrypt("k", "one", nil)
	if again := e.encrypt("k", "one again", nil); !strings.HasPrefix(again, "vault:v1:") || e.decrypt("k", again, nil) != "one again" {
		t.Fatalf("second encrypt with version 1: %q", again)
	}
	e.write("keys/k/rotate", nil)
	v2 := e.encrypt("k", "two", nil)
	if !strings.HasPrefix(v2, "vault:v2:") {
		t.Fatalf("after rotate: %q, want version 2", v2)
	}
	if got := e.decrypt("k", v1, nil); got != "one" {
		t.Fatalf("version 1 decrypts to %q", got)
	}
	if got := e.decrypt("k", v2, nil); got != "two" {
		t.Fatalf("version 2 decrypts to %q", got)
	}
	e.fails("decrypt/k", map[string]any{"ciphertext": "vault:v1:" + strings.TrimPrefix(v2, "vault:v2:")}, "message authentication failed")
}
