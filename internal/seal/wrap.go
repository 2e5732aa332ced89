package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// KeySize is the size in bytes of a key-wrapping key (AES-256).
const KeySize = 32

// Layout of a wrapped blob:
//
//	version (1 byte, 0x1 = AES-256-GCM) | nonce (12 random bytes) | ciphertext || tag (16)
//
// The caller's aad (for seals: their Type) is authenticated but not stored.
// Each seal wraps a handful of root keys in its lifetime, far below the 2^32
// random-nonce limit of NIST SP 800-38D.
const (
	wrapVersion byte = 0x1
	nonceSize        = 12 // the standard GCM nonce size
	tagSize          = 16 // the standard GCM tag size
	headerSize       = 1 + nonceSize
	minBlobSize      = headerSize + tagSize
)

// WrapWithKey encrypts plaintext under key (KeySize bytes) with
// AES-256-GCM, binding it to aad.
func WrapWithKey(key, plaintext, aad []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, headerSize, headerSize+len(plaintext)+tagSize)
	out[0] = wrapVersion
	nonce := out[1:headerSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	return aead.Seal(out, nonce, plaintext, aad), nil
}

// UnwrapWithKey reverses WrapWithKey. Any failure, including a key of the
// wrong length, is ErrUnwrap.
func UnwrapWithKey(key, blob, aad []byte) ([]byte, error) {
	if len(blob) < minBlobSize || blob[0] != wrapVersion {
		return nil, ErrUnwrap
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, ErrUnwrap
	}
	plaintext, err := aead.Open(nil, blob[1:headerSize], blob[headerSize:], aad)
	if err != nil {
		return nil, ErrUnwrap
	}
	return plaintext, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w, got %d", ErrKeyLength, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: gcm: %w", err)
	}
	return aead, nil
}
