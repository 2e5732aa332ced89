package barrier

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// Layout of an encrypted value:
//
//	term (4, big endian) | version (1) | nonce (12) | ciphertext || tag (16)
const (
	termSize    = 4
	versionSize = 1
	nonceSize   = 12 // the standard GCM nonce size; random, see the package doc
	tagSize     = 16 // the standard GCM tag size
	headerSize  = termSize + versionSize + nonceSize
	// minValueSize is the size of an encrypted empty plaintext.
	minValueSize = headerSize + tagSize

	// versionAESGCM is AES-256-GCM, random 96-bit nonce, AAD = storage key.
	versionAESGCM byte = 0x1

	// keyringTerm is the term written in front of the keyring, which is
	// encrypted under the root key. Keyring terms start at 1.
	keyringTerm uint32 = 0
)

// Errors wrapped under ErrDecrypt (or mapped to ErrWrongKey for the keyring).
var (
	errTooShort    = errors.New("value too short")
	errVersion     = errors.New("unknown version")
	errUnknownTerm = errors.New("unknown key term")
	errAuth        = errors.New("message authentication failed")
)

// encrypt seals plaintext under aead, binding it to the storage key path, and
// returns header || ciphertext || tag.
func encrypt(aead cipher.AEAD, term uint32, path string, plaintext []byte) ([]byte, error) {
	out := make([]byte, headerSize, headerSize+len(plaintext)+tagSize)
	binary.BigEndian.PutUint32(out[:termSize], term)
	out[termSize] = versionAESGCM
	nonce := out[termSize+versionSize : headerSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("barrier: nonce: %w", err)
	}
	// Seal appends after the header; nonce (inside the header) is not
	// overwritten.
	return aead.Seal(out, nonce, plaintext, []byte(path)), nil
}

// termOf returns the term of an encrypted value, so the caller can pick the
// AEAD to pass to decrypt.
func termOf(value []byte) (uint32, error) {
	if len(value) < minValueSize {
		return 0, errTooShort
	}
	return binary.BigEndian.Uint32(value[:termSize]), nil
}

// decrypt opens a value written by encrypt for the storage key path. It does
// not check the term: the caller chose aead by it.
func decrypt(aead cipher.AEAD, path string, value []byte) ([]byte, error) {
	if len(value) < minValueSize {
		return nil, errTooShort
	}
	if value[termSize] != versionAESGCM {
		return nil, errVersion
	}
	nonce := value[termSize+versionSize : headerSize]
	plaintext, err := aead.Open(nil, nonce, value[headerSize:], []byte(path))
	if err != nil {
		return nil, errAuth
	}
	return plaintext, nil
}
