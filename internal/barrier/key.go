package barrier

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
)

// KeySize is the size in bytes of the root key and of every keyring key
// (AES-256).
const KeySize = 32

// GenerateKey returns KeySize bytes from crypto/rand, for use as a root key.
func GenerateKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("barrier: generate key: %w", err)
	}
	return k, nil
}

const redactedText = "[REDACTED]"

// redacted makes the types that embed it print as [REDACTED] with every fmt
// verb (including %#v and %x) and in slog.
type redacted struct{}

func (redacted) String() string               { return redactedText }
func (redacted) GoString() string             { return redactedText }
func (redacted) Format(f fmt.State, _ rune)   { _, _ = io.WriteString(f, redactedText) }
func (redacted) LogValue() slog.Value         { return slog.StringValue(redactedText) }
func (redacted) MarshalText() ([]byte, error) { return []byte(redactedText), nil }

// secretKey holds one AES-256 key. The [0]func() field makes it
// incomparable, so keys cannot be compared with == (use crypto/subtle).
type secretKey struct {
	redacted
	_ [0]func()
	b [KeySize]byte
}

// newSecretKey copies b into a new key.
func newSecretKey(b []byte) (*secretKey, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("%w, got %d", ErrKeyLength, len(b))
	}
	k := &secretKey{}
	copy(k.b[:], b)
	return k, nil
}

// newAEAD builds the AES-256-GCM AEAD for k, with the standard 12-byte nonce
// and 16-byte tag.
func (k *secretKey) newAEAD() (cipher.AEAD, error) {
	block, err := aes.NewCipher(k.b[:])
	if err != nil {
		return nil, fmt.Errorf("barrier: aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("barrier: gcm: %w", err)
	}
	return aead, nil
}

// zero overwrites the key bytes. The AEAD built from them keeps its own
// expanded key, which the runtime does not let us clear; callers drop it.
func (k *secretKey) zero() { clear(k.b[:]) }
