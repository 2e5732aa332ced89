package shamir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/cofferdev/coffer/internal/seal"
)

// ErrNoKey is returned by Wrap and Unwrap before SetKey.
var ErrNoKey = errors.New("shamir: no key set")

// Seal wraps the root key with the key combined from the unseal shares
// (AES-256-GCM via seal.WrapWithKey, AAD "shamir"). The core sets the key
// after an Unsealer completes, or after it generates the shares at init.
// A Seal is safe for concurrent use and prints as [REDACTED].
type Seal struct {
	mu  sync.RWMutex
	key []byte // nil until SetKey
}

var _ seal.Seal = (*Seal)(nil)

// New returns a Seal without a key.
func New() *Seal { return &Seal{} }

// Type returns seal.TypeShamir.
func (*Seal) Type() string { return seal.TypeShamir }

// SetKey sets a copy of key as the wrapping key, zeroing the previous one.
// A key that is not seal.KeySize bytes makes Wrap fail with
// seal.ErrKeyLength and Unwrap with seal.ErrUnwrap.
func (s *Seal) SetKey(key []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.key)
	s.key = append([]byte(nil), key...)
}

// ClearKey zeroes and forgets the key, as when the core seals.
func (s *Seal) ClearKey() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.key)
	s.key = nil
}

// Wrap encrypts plaintext under the key.
func (s *Seal) Wrap(_ context.Context, plaintext []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.key == nil {
		return nil, ErrNoKey
	}
	blob, err := seal.WrapWithKey(s.key, plaintext, []byte(seal.TypeShamir))
	if err != nil {
		return nil, fmt.Errorf("shamir: wrap: %w", err)
	}
	return blob, nil
}

// Unwrap decrypts a blob made by Wrap. Shares that combined to the wrong key
// show here, as seal.ErrUnwrap.
func (s *Seal) Unwrap(_ context.Context, blob []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.key == nil {
		return nil, ErrNoKey
	}
	plaintext, err := seal.UnwrapWithKey(s.key, blob, []byte(seal.TypeShamir))
	if err != nil {
		return nil, fmt.Errorf("shamir: %w", err)
	}
	return plaintext, nil
}

const redactedText = "[REDACTED]"

// String, GoString, Format and LogValue keep the key out of output.
func (*Seal) String() string             { return redactedText }
func (*Seal) GoString() string           { return redactedText }
func (*Seal) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redactedText) }
func (*Seal) LogValue() slog.Value       { return slog.StringValue(redactedText) }
