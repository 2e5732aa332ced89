package gitops

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

const (
	// tokenPrefix and tokenSuffix frame a sealed value.
	tokenPrefix = "ENC[coffer:v1,"
	tokenSuffix = "]"
	// maxValueSize bounds a single value's plaintext (1 MiB), well above any
	// configuration value, so a hostile file cannot make us allocate much.
	maxValueSize = 1 << 20
	// HKDF info labels: one key per purpose, all from the data key.
	infoValue = "coffer gitops v1 value key"
	infoNonce = "coffer gitops v1 nonce key"
	infoMAC   = "coffer gitops v1 recipients mac"
)

// DataKey is a file's 256-bit data key. It prints as [REDACTED].
type DataKey struct {
	b [32]byte
	// valueKey and nonceKey are derived from b once, at creation.
	valueKey, nonceKey []byte
}

// NewDataKey returns a fresh random data key.
func NewDataKey() (*DataKey, error) {
	k := &DataKey{}
	if _, err := rand.Read(k.b[:]); err != nil {
		return nil, fmt.Errorf("generating data key: %w", err)
	}
	return k.init(), nil
}

func dataKeyFrom(b []byte) (*DataKey, error) {
	if len(b) != 32 {
		return nil, fmt.Errorf("%w: data key is %d bytes, want 32", ErrMalformed, len(b))
	}
	k := &DataKey{}
	copy(k.b[:], b)
	return k.init(), nil
}

// String implements fmt.Stringer without revealing the key.
func (*DataKey) String() string { return "[REDACTED]" }

// GoString implements fmt.GoStringer without revealing the key.
func (*DataKey) GoString() string { return "[REDACTED]" }

// LogValue implements slog.LogValuer without revealing the key.
func (*DataKey) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

func (k *DataKey) init() *DataKey {
	k.valueKey, k.nonceKey = k.derive(infoValue), k.derive(infoNonce)
	return k
}

func (k *DataKey) derive(info string) []byte {
	out, err := hkdf.Key(sha256.New, k.b[:], nil, info, 32)
	if err != nil {
		panic("gitops: hkdf with fixed sizes failed: " + err.Error()) // cannot happen: 32 bytes is far below the limit
	}
	return out
}

// valueAAD is the additional data binding a value to its place.
func valueAAD(doc int, path string) []byte {
	return []byte("coffer:v1\x00" + strconv.Itoa(doc) + "\x00" + path)
}

// sealValue encrypts plaintext for the key path and returns its token.
// The nonce is a synthetic IV, so equal inputs give equal tokens.
func sealValue(k *DataKey, doc int, path string, plaintext []byte) (string, error) {
	if len(plaintext) > maxValueSize {
		return "", fmt.Errorf("%w: value at %s is larger than %d bytes", ErrUnsupported, describe(doc, path), maxValueSize)
	}
	aead, err := chacha20poly1305.NewX(k.valueKey)
	if err != nil {
		return "", fmt.Errorf("value cipher: %w", err)
	}
	aad := valueAAD(doc, path)
	mac := hmac.New(sha256.New, k.nonceKey)
	// The length prefix keeps (aad, plaintext) pairs unambiguous, so two
	// different pairs never share a nonce.
	mac.Write(binary.BigEndian.AppendUint64(nil, uint64(len(aad))))
	mac.Write(aad)
	mac.Write(plaintext)
	nonce := mac.Sum(nil)[:chacha20poly1305.NonceSizeX]
	out := aead.Seal(nonce, nonce, plaintext, aad)
	return tokenPrefix + base64.StdEncoding.EncodeToString(out) + tokenSuffix, nil
}

// openValue decrypts a token sealed for the key path.
func openValue(k *DataKey, doc int, path, token string) ([]byte, error) {
	raw, err := ParseToken(token)
	if err != nil {
		return nil, fmt.Errorf("at %s: %w", describe(doc, path), err)
	}
	aead, err := chacha20poly1305.NewX(k.valueKey)
	if err != nil {
		return nil, fmt.Errorf("value cipher: %w", err)
	}
	nonce, ct := raw[:chacha20poly1305.NonceSizeX], raw[chacha20poly1305.NonceSizeX:]
	pt, err := aead.Open(nil, nonce, ct, valueAAD(doc, path))
	if err != nil {
		return nil, fmt.Errorf("%w: at %s (changed, or moved from another key or file)", ErrDecrypt, describe(doc, path))
	}
	return pt, nil
}

// IsToken reports whether s looks like a sealed value (without checking
// that its payload parses).
func IsToken(s string) bool {
	return strings.HasPrefix(s, tokenPrefix) && strings.HasSuffix(s, tokenSuffix)
}

// ParseToken parses ENC[coffer:v1,<base64>] and returns nonce||ciphertext.
// It checks the frame, the base64 and the minimum length (nonce and tag).
func ParseToken(s string) ([]byte, error) {
	if !IsToken(s) {
		return nil, fmt.Errorf("%w: not an ENC[coffer:v1,...] value", ErrMalformed)
	}
	body := s[len(tokenPrefix) : len(s)-len(tokenSuffix)]
	if len(body) > base64.StdEncoding.EncodedLen(maxValueSize+chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead) {
		return nil, fmt.Errorf("%w: sealed value too large", ErrMalformed)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("%w: sealed value is not base64: %v", ErrMalformed, err)
	}
	if len(raw) < chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead {
		return nil, fmt.Errorf("%w: sealed value truncated (%d bytes)", ErrMalformed, len(raw))
	}
	return raw, nil
}

// describe names a value's place for error messages.
func describe(doc int, path string) string {
	if doc == 0 {
		return fmt.Sprintf("key path %q", path)
	}
	return fmt.Sprintf("key path %q (document %d)", path, doc)
}
