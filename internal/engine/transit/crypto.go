package transit

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/cofferdev/coffer/internal/logical"
)

// errMissingContext is Vault's message when a derived key gets no context.
const errMissingContext = "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key"

// newAEAD builds the AEAD of a symmetric key type. Both use a 12-byte nonce
// and a 16-byte tag.
func newAEAD(t keyType, key []byte) (cipher.AEAD, error) {
	if t == typeChaCha20 {
		return chacha20poly1305.New(key)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// cipherFor returns the AEAD of key, the material symmetricKey returned for
// version k. Without derivation that is the version's own key: its AEAD is
// built once and kept with the version, which is immutable (an AEAD is
// safe for concurrent use). A derived key differs per context and gets a
// new AEAD each time.
func (p *policy) cipherFor(k *keyVersion, key []byte) (cipher.AEAD, error) {
	if p.Derived {
		return newAEAD(p.Type, key)
	}
	if a := k.aead.Load(); a != nil {
		return *a, nil
	}
	a, err := newAEAD(p.Type, key)
	if err != nil {
		return nil, err
	}
	k.aead.Store(&a)
	return a, nil
}

// deriveKey is Vault's hkdf_sha256 derivation: HKDF-SHA256 with the
// version's key as secret, no salt and the caller's context as info.
// HKDF output is prefix-consistent, so the first 32 bytes of a 64-byte
// derivation equal a 32-byte derivation.
func deriveKey(secret, context []byte, n int) ([]byte, error) {
	if len(context) == 0 {
		return nil, logical.InvalidRequest(errMissingContext)
	}
	return hkdf.Key(sha256.New, secret, nil, string(context), n)
}

// symmetricKey returns the key material for version ver: the stored key,
// or n bytes derived from it with context when the key is derived.
func (p *policy) symmetricKey(k *keyVersion, context []byte, n int) ([]byte, error) {
	if !p.Derived {
		return k.Key, nil
	}
	return deriveKey(k.Key, context, n)
}

// encrypt encrypts plaintext under version ver (0 = latest) and returns
// the ciphertext and the version used.
//
// Convergent keys (always derived) derive the key size plus 32 bytes from
// the context: the first keySize bytes are the AEAD key, the last 32 an
// HMAC-SHA256 key; the nonce is the first 12 bytes of HMAC(hmacKey,
// plaintext), Vault's convergent version 3. Same key, context and plaintext give the same ciphertext.
// aad is authenticated, not encrypted (symmetric keys only).
func (p *policy) encrypt(ver int, context, nonce, plaintext, aad []byte) (string, int, error) {
	if !p.Type.supportsEncryption() {
		return "", 0, logical.InvalidRequest("message encryption not supported for key type %s", p.Type)
	}
	ver, err := p.encryptionVersion(ver, "encryption")
	if err != nil {
		return "", 0, err
	}
	k, err := p.version(ver)
	if err != nil {
		return "", 0, err
	}
	if len(nonce) > 0 {
		return "", 0, logical.InvalidRequest("nonce provided when not allowed")
	}
	if p.Type.isRSA() {
		if len(aad) > 0 {
			return "", 0, logical.InvalidRequest("associated data not supported for key type %s", p.Type)
		}
		pub := k.public().(*rsa.PublicKey)
		out, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, plaintext, nil)
		if err != nil {
			return "", 0, logical.InvalidRequest("failed to RSA encrypt the plaintext: plaintext too long")
		}
		return formatCiphertext(ver, out), ver, nil
	}
	size := p.Type.keySize()
	n := size
	if p.ConvergentEncryption {
		n += sha256.Size
	}
	key, err := p.symmetricKey(k, context, n)
	if err != nil {
		return "", 0, err
	}
	aead, err := p.cipherFor(k, key[:size])
	if err != nil {
		return "", 0, fmt.Errorf("transit: build cipher: %w", err)
	}
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if p.ConvergentEncryption {
		mac := hmac.New(sha256.New, key[size:])
		mac.Write(plaintext)
		copy(out, mac.Sum(nil))
	} else {
		rand.Read(out)
	}
	out = aead.Seal(out, out[:aead.NonceSize()], plaintext, aad)
	return formatCiphertext(ver, out), ver, nil
}

// decrypt reverses encrypt and returns the plaintext and the version the
// ciphertext was made with. aad is the AEAD associated data (Vault's
// associated_data); it must equal what encrypt was given.
func (p *policy) decrypt(context, aad []byte, ciphertext string) ([]byte, int, error) {
	if !p.Type.supportsEncryption() {
		return nil, 0, logical.InvalidRequest("message decryption not supported for key type %s", p.Type)
	}
	ver, raw, err := parseCiphertext(ciphertext)
	if err != nil {
		return nil, 0, err
	}
	if err := p.decryptionVersion(ver); err != nil {
		return nil, 0, err
	}
	k, err := p.version(ver)
	if err != nil {
		return nil, 0, err
	}
	if p.Type.isRSA() {
		priv, ok := k.signer.(*rsa.PrivateKey)
		if !ok {
			return nil, 0, errPublicOnly(ver, "decrypt")
		}
		plain, err := rsa.DecryptOAEP(sha256.New(), nil, priv, raw, nil)
		if err != nil {
			return nil, 0, logical.InvalidRequest("failed to RSA decrypt the ciphertext")
		}
		return plain, ver, nil
	}
	key, err := p.symmetricKey(k, context, p.Type.keySize())
	if err != nil {
		return nil, 0, err
	}
	aead, err := p.cipherFor(k, key)
	if err != nil {
		return nil, 0, fmt.Errorf("transit: build cipher: %w", err)
	}
	if len(raw) < aead.NonceSize() {
		return nil, 0, logical.InvalidRequest("invalid ciphertext length")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], aad)
	if err != nil {
		return nil, 0, logical.InvalidRequest("cipher: message authentication failed")
	}
	return plain, ver, nil
}

// signingKey returns the private key of version k, derived from context
// for derived ed25519 keys (Vault: HKDF of the 64-byte private key, 32
// bytes used as the seed).
func (p *policy) signingKey(k *keyVersion, ver int, context []byte) (any, error) {
	if k.publicOnly() {
		return nil, errPublicOnly(ver, "sign")
	}
	if p.Type == typeEd25519 && p.Derived {
		seed, err := deriveKey(k.Key, context, ed25519.SeedSize)
		if err != nil {
			return nil, err
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	return k.signer, nil
}
