package transit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// FuzzParseCiphertext: the parser never panics, accepts only the
// "vault:v<N>:<base64>" shape, and format∘parse is the identity on what it
// accepts (for canonical base64 bodies).
func FuzzParseCiphertext(f *testing.F) {
	for _, s := range []string{"vault:v1:AAAA", "vault:v0:", "vault:v12:YWJj", "vault:v1", "vault:v-1:AA==",
		"vault:v01:AA==", "vault:vx:AA", "x", "", "vault:v1:!!", "vault:v99999999999999999999:AA=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ver, raw, err := parseCiphertext(s)
		if err != nil {
			if logical.KindOf(err) != logical.KindInvalidRequest {
				t.Fatalf("parse %q: error %v is not an invalid request", s, err)
			}
			return
		}
		if ver < 1 || !strings.HasPrefix(s, versionPrefix) {
			t.Fatalf("parse %q accepted version %d", s, ver)
		}
		again := formatCiphertext(ver, raw)
		if v2, raw2, err := parseCiphertext(again); err != nil || v2 != ver || string(raw2) != string(raw) {
			t.Fatalf("round trip of %q via %q: %d %v", s, again, v2, err)
		}
	})
}

// FuzzDecodeBatch: batch decoding of any JSON never panics, and on success
// yields one item per element with every schema field of its declared kind.
func FuzzDecodeBatch(f *testing.F) {
	for _, s := range []string{`[{"plaintext":"YQ==","context":"Yw==","key_version":2,"reference":"r"}]`,
		`[]`, `{}`, `[1]`, `[{"key_version":"3"}]`, `[{"key_version":1.5}]`, `"[{}]"`, `[{"plaintext":5}]`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var raw any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if dec.Decode(&raw) != nil {
			return
		}
		items, err := decodeBatch(raw, encryptItem)
		if err != nil {
			if logical.KindOf(err) != logical.KindInvalidRequest {
				t.Fatalf("decode %q: error %v is not an invalid request", s, err)
			}
			return
		}
		if len(items) == 0 {
			t.Fatalf("decode %q: success with no items", s)
		}
		for _, it := range items {
			for name, v := range it {
				kind, ok := encryptItem[name]
				if !ok {
					t.Fatalf("decode %q: unknown field %q kept", s, name)
				}
				switch v.(type) {
				case string:
					ok = kind == kindString
				case int:
					ok = kind == kindInt
				default:
					ok = false
				}
				if !ok {
					t.Fatalf("decode %q: field %q has type %T", s, name, v)
				}
			}
		}
	})
}

// FuzzImportedVersion: any imported key material, for any key type, is
// either refused with an invalid-request error or becomes a usable version.
func FuzzImportedVersion(f *testing.F) {
	ed := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	der, err := x509.MarshalPKCS8PrivateKey(ed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), make([]byte, 32))
	f.Add(uint8(2), der)
	f.Add(uint8(3), der[:len(der)-1])
	types := []keyType{typeAES256, typeChaCha20, typeEd25519, typeECDSAP256, typeRSA2048, typeRSA4096}
	f.Fuzz(func(t *testing.T, which uint8, material []byte) {
		typ := types[int(which)%len(types)]
		k, err := importedVersion(typ, bytes.Clone(material), time.Unix(0, 0))
		if err != nil {
			if logical.KindOf(err) != logical.KindInvalidRequest {
				t.Fatalf("%s: refused with %v; want an invalid request", typ, err)
			}
			return
		}
		if err := k.prepare(typ); err != nil || (!typ.symmetric() && k.signer == nil) {
			t.Fatalf("%s: imported version does not prepare: %v", typ, err)
		}
	})
}
