package transit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// Public-key-only versions (Vault's import with public_key): an asymmetric
// version imported without its private key verifies signatures and, for
// RSA, encrypts; signing, decryption and private-key export refuse it.

// publicVersion makes a public-key-only version of type t from a PEM
// (PKIX) public key.
func publicVersion(t keyType, pemKey string, now time.Time) (*keyVersion, error) {
	if !t.supportsSigning() {
		return nil, logical.InvalidRequest("a public key cannot be imported for the symmetric key type %s", t)
	}
	if len(pemKey) > maxImportCiphertext {
		return nil, logical.InvalidRequest("public_key is larger than %d bytes", maxImportCiphertext)
	}
	block, _ := pem.Decode([]byte(pemKey))
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, logical.InvalidRequest("public_key must be a PEM \"PUBLIC KEY\" block")
	}
	parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, logical.InvalidRequest("public_key does not parse as a PKIX public key")
	}
	if !publicKeyOfType(t, parsed) {
		return nil, logical.InvalidRequest("the imported public key is not a %s key", t)
	}
	k := &keyVersion{HMACKey: make([]byte, hmacKeySize), CreationTime: now.UTC()}
	rand.Read(k.HMACKey)
	if pub, ok := parsed.(ed25519.PublicKey); ok {
		k.PublicKey = base64.StdEncoding.EncodeToString(pub)
	} else {
		k.PublicKey = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: block.Bytes}))
	}
	k.pub = parsed
	return k, nil
}

// publicKeyOfType reports whether pub is a key of type t: the right
// algorithm, curve or modulus size.
func publicKeyOfType(t keyType, pub crypto.PublicKey) bool {
	switch key := pub.(type) {
	case ed25519.PublicKey:
		return t == typeEd25519
	case *ecdsa.PublicKey:
		return t.isECDSA() && key.Curve == t.curve()
	case *rsa.PublicKey:
		return t.isRSA() && key.N.BitLen() == t.rsaBits()
	}
	return false
}

// publicOnly reports whether an asymmetric version holds no private key.
func (k *keyVersion) publicOnly() bool { return len(k.Key) == 0 && len(k.PrivateDER) == 0 }

// preparePublic parses the public key of a public-key-only version.
func (k *keyVersion) preparePublic(t keyType) error {
	if t == typeEd25519 {
		b, err := base64.StdEncoding.DecodeString(k.PublicKey)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return ErrCorruptEntry
		}
		k.pub = ed25519.PublicKey(b)
		return nil
	}
	block, _ := pem.Decode([]byte(k.PublicKey))
	if block == nil {
		return ErrCorruptEntry
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil || !publicKeyOfType(t, pub) {
		return ErrCorruptEntry
	}
	k.pub = pub
	return nil
}

// public returns the version's public key.
func (k *keyVersion) public() crypto.PublicKey {
	if k.signer != nil {
		return k.signer.Public()
	}
	return k.pub
}

// errPublicOnly refuses what needs the private key of a public-key-only
// version (ver 0: the version is not named).
func errPublicOnly(ver int, what string) error {
	if ver == 0 {
		return logical.InvalidRequest("this key version was imported from its public key only: it cannot %s", what)
	}
	return logical.InvalidRequest("version %d of this key was imported from its public key only: it cannot %s", ver, what)
}
