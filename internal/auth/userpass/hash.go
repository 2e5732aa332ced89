package userpass

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"log/slog"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new password hashes: OWASP's second recommended
// configuration (19 MiB of memory, two passes, one lane). Vault's 64 MiB
// would let a handful of concurrent logins exhaust a small server, and one
// hash here costs about 30-60 ms of one core, which is what a login is
// allowed to cost. The parameters are stored with every hash, so they can be
// raised later without invalidating existing passwords.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
	// algArgon2id names the only algorithm stored hashes use.
	algArgon2id = "argon2id"
)

// Bounds on stored parameters, so a corrupt entry cannot make a login
// allocate gigabytes or spin for minutes.
const (
	maxArgonTime   = 10
	maxArgonMemory = 256 * 1024 // KiB
)

// passwordHash is a salted argon2id hash of a password with the parameters
// that produced it. It prints as [REDACTED].
type passwordHash struct {
	Alg     string `json:"alg"`
	Time    uint32 `json:"t"`
	Memory  uint32 `json:"m"` // KiB
	Threads uint8  `json:"p"`
	Salt    []byte `json:"salt"`
	Hash    []byte `json:"hash"`
}

// String implements fmt.Stringer without revealing the hash.
func (passwordHash) String() string { return "[REDACTED]" }

// GoString implements fmt.GoStringer without revealing the hash.
func (passwordHash) GoString() string { return "[REDACTED]" }

// LogValue implements slog.LogValuer without revealing the hash.
func (passwordHash) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// hashPassword hashes password with a fresh random salt and the current
// parameters.
func hashPassword(password string) (passwordHash, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return passwordHash{}, fmt.Errorf("userpass: read salt: %w", err)
	}
	h := passwordHash{Alg: algArgon2id, Time: argonTime, Memory: argonMemory, Threads: argonThreads, Salt: salt}
	h.Hash = argon2.IDKey([]byte(password), salt, h.Time, h.Memory, h.Threads, argonKeyLen)
	return h, nil
}

// valid reports whether the stored parameters are usable and within bounds.
func (h passwordHash) valid() bool {
	return h.Alg == algArgon2id && h.Time >= 1 && h.Time <= maxArgonTime &&
		h.Memory >= 8*uint32(h.Threads) && h.Memory <= maxArgonMemory &&
		h.Threads >= 1 && len(h.Salt) >= 8 && len(h.Hash) >= 16 && len(h.Hash) <= 64
}

// verify reports whether password matches h, comparing in constant time.
// A hash with invalid parameters never matches.
func (h passwordHash) verify(password string) bool {
	if !h.valid() {
		return false
	}
	got := argon2.IDKey([]byte(password), h.Salt, h.Time, h.Memory, h.Threads, uint32(len(h.Hash)))
	return subtle.ConstantTimeCompare(got, h.Hash) == 1
}
