package approle

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cofferdev/coffer/internal/storage"
)

// hmacKeyPath is where the mount's HMAC key lives in its storage view.
const hmacKeyPath = "hmac-key"

// hmacKeyLen is the HMAC-SHA256 key size in bytes.
const hmacKeyLen = 32

// Labels that separate the three things hashed under one key, so a secret
// ID's HMAC can never equal an accessor's or a role ID's.
const (
	labelSecretID = "secret-id"
	labelAccessor = "accessor"
	labelRoleID   = "role-id"
)

// hmacKeys loads (or creates) the mount's HMAC key once and caches it.
type hmacKeys struct {
	mu  sync.Mutex
	key hmacKey
}

// hmacKey is the mount's HMAC key; it prints as [REDACTED].
type hmacKey []byte

// String implements fmt.Stringer without revealing the key.
func (hmacKey) String() string { return "[REDACTED]" }

// GoString implements fmt.GoStringer without revealing the key.
func (hmacKey) GoString() string { return "[REDACTED]" }

// LogValue implements slog.LogValuer without revealing the key.
func (hmacKey) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// get returns the key, reading it from s or creating and storing it on the
// mount's first use.
func (k *hmacKeys) get(ctx context.Context, s storage.Backend) (hmacKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		return k.key, nil
	}
	e, err := s.Get(ctx, hmacKeyPath)
	switch {
	case err == nil:
		if len(e.Value) != hmacKeyLen {
			return nil, ErrCorruptEntry
		}
		k.key = hmacKey(append([]byte(nil), e.Value...))
		return k.key, nil
	case !errors.Is(err, storage.ErrNotFound):
		return nil, fmt.Errorf("approle: read hmac key: %w", err)
	}
	key := make([]byte, hmacKeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("approle: generate hmac key: %w", err)
	}
	if err := s.Put(ctx, &storage.Entry{Key: hmacKeyPath, Value: key}); err != nil {
		return nil, fmt.Errorf("approle: write hmac key: %w", err)
	}
	k.key = key
	return k.key, nil
}

// sum returns the hex HMAC-SHA256 of label, a zero byte and value.
func (k hmacKey) sum(label, value string) string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// hashes computes the HMAC of value under label with the mount's key.
func (b *Backend) hash(ctx context.Context, s storage.Backend, label, value string) (string, error) {
	k, err := b.keys.get(ctx, s)
	if err != nil {
		return "", err
	}
	return k.sum(label, value), nil
}
