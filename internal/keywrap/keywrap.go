// Package keywrap implements AES key wrap with padding (RFC 5649) and the
// envelope transit key imports are sent in, built on it.
package keywrap

import (
	"crypto/aes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
)

// icv is RFC 5649's alternative initial value prefix.
var icv = [4]byte{0xA6, 0x59, 0x59, 0xA6}

// ErrUnwrap is every unwrap failure: a wrong key and damaged input look
// alike.
var ErrUnwrap = errors.New("key unwrap failed: the wrapped key is damaged or was wrapped with another key")

// Wrap wraps plaintext (1 to 2^32-1 bytes) under kek, an AES key of 16,
// 24 or 32 bytes.
func Wrap(kek, plaintext []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(plaintext) == 0 || uint64(len(plaintext)) > 0xFFFFFFFF {
		return nil, errors.New("key wrap: plaintext must be 1 to 2^32-1 bytes")
	}
	var a [8]byte
	copy(a[:4], icv[:])
	binary.BigEndian.PutUint32(a[4:], uint32(len(plaintext)))
	padded := make([]byte, (len(plaintext)+7)/8*8)
	copy(padded, plaintext)
	if len(padded) == 8 {
		out := make([]byte, 16)
		copy(out, a[:])
		copy(out[8:], padded)
		block.Encrypt(out, out)
		return out, nil
	}
	n := len(padded) / 8
	out := make([]byte, 8+len(padded))
	copy(out[8:], padded)
	var buf [16]byte
	for j := 0; j <= 5; j++ {
		for i := 1; i <= n; i++ {
			copy(buf[:8], a[:])
			copy(buf[8:], out[8*i:8*i+8])
			block.Encrypt(buf[:], buf[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(a[:], binary.BigEndian.Uint64(buf[:8])^t)
			copy(out[8*i:8*i+8], buf[8:])
		}
	}
	copy(out[:8], a[:])
	return out, nil
}

// Unwrap reverses Wrap, checking the integrity value, the length and the
// padding.
func Unwrap(kek, wrapped []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	if len(wrapped) < 16 || len(wrapped)%8 != 0 {
		return nil, ErrUnwrap
	}
	var a [8]byte
	var padded []byte
	if len(wrapped) == 16 {
		var buf [16]byte
		block.Decrypt(buf[:], wrapped)
		copy(a[:], buf[:8])
		padded = append([]byte(nil), buf[8:]...)
	} else {
		n := len(wrapped)/8 - 1
		r := append([]byte(nil), wrapped[8:]...)
		copy(a[:], wrapped[:8])
		var buf [16]byte
		for j := 5; j >= 0; j-- {
			for i := n; i >= 1; i-- {
				t := uint64(n*j + i)
				binary.BigEndian.PutUint64(buf[:8], binary.BigEndian.Uint64(a[:])^t)
				copy(buf[8:], r[8*(i-1):8*i])
				block.Decrypt(buf[:], buf[:])
				copy(a[:], buf[:8])
				copy(r[8*(i-1):8*i], buf[8:])
			}
		}
		padded = r
	}
	mli := int(binary.BigEndian.Uint32(a[4:]))
	ok := subtle.ConstantTimeCompare(a[:4], icv[:]) == 1 &&
		mli > len(padded)-8 && mli <= len(padded)
	if ok {
		var pad byte
		for _, c := range padded[mli:] {
			pad |= c
		}
		ok = pad == 0
	}
	if !ok {
		clear(padded)
		return nil, ErrUnwrap
	}
	return padded[:mli], nil
}

// ForImport builds the ciphertext a transit key import takes (Vault's
// BYOK format): a fresh 32-byte AES key wrapped for pub with RSA-OAEP
// (newHash), followed by material wrapped with that AES key.
func ForImport(pub *rsa.PublicKey, newHash func() hash.Hash, material []byte) ([]byte, error) {
	ephemeral := make([]byte, 32)
	defer clear(ephemeral)
	rand.Read(ephemeral)
	wrappedKey, err := rsa.EncryptOAEP(newHash(), rand.Reader, pub, ephemeral, nil)
	if err != nil {
		return nil, fmt.Errorf("keywrap: wrap the ephemeral key: %w", err)
	}
	wrapped, err := Wrap(ephemeral, material)
	if err != nil {
		return nil, err
	}
	return append(wrappedKey, wrapped...), nil
}
