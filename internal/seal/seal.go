// Package seal defines how Coffer wraps and unwraps the barrier's root key:
// the Seal interface, the AES-256-GCM key wrapping every seal shares, and
// the seal configuration the core persists.
package seal

import "context"

// Seal types, as stored in Config.Type.
const (
	TypeShamir = "shamir"
	TypeStatic = "static"
)

// Seal wraps and unwraps the barrier's root key. Implementations are safe
// for concurrent use. Unwrap reports every failure (wrong key, tampered or
// malformed blob) as an error wrapping ErrUnwrap and returns a root key the
// caller owns.
type Seal interface {
	// Type names the seal kind, e.g. TypeShamir.
	Type() string
	Wrap(ctx context.Context, plaintext []byte) ([]byte, error)
	Unwrap(ctx context.Context, blob []byte) ([]byte, error)
}

// AutoSeal marks seals that unwrap without operator input (static key file,
// PKCS#11, transit). Auto has no behaviour: a seal that implements it lets
// the core unseal at startup instead of waiting for key shares.
type AutoSeal interface {
	Seal
	Auto()
}

// IsAuto reports whether s is an AutoSeal.
func IsAuto(s Seal) bool {
	_, ok := s.(AutoSeal)
	return ok
}
