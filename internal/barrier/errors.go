package barrier

import "errors"

var (
	// ErrSealed is returned by storage operations, Rotate, ReloadKeyring and
	// RootKey while the barrier is sealed.
	ErrSealed = errors.New("barrier: sealed")
	// ErrNotInitialized is returned by Unseal when no keyring is stored.
	ErrNotInitialized = errors.New("barrier: not initialized")
	// ErrAlreadyInitialized is returned by Initialize when a keyring is
	// already stored.
	ErrAlreadyInitialized = errors.New("barrier: already initialized")
	// ErrWrongKey is returned by Unseal when the root key does not open the
	// keyring. It deliberately says nothing more.
	ErrWrongKey = errors.New("barrier: wrong root key")
	// ErrDecrypt is returned, wrapped with the storage key, when a stored
	// value cannot be decrypted (too short, unknown version or term, or
	// failed authentication), and by List, wrapped with the listed prefix,
	// when a stored key name cannot (malformed or failed authentication).
	ErrDecrypt = errors.New("barrier: cannot decrypt")
	// ErrReservedKey is returned for keys the barrier keeps for itself and
	// for the seal layer ("core/keyring", "core/seal/...").
	ErrReservedKey = errors.New("barrier: reserved key")
	// ErrPathKeyChanged is returned by ReloadKeyring when the stored keyring
	// holds another path key than the one loaded at Unseal.
	ErrPathKeyChanged = errors.New("barrier: stored path key differs from the loaded one")
	// ErrKeyringKey is returned by DecodeKey for the physical key of the
	// keyring: the keyring changed, and the caller should ReloadKeyring.
	ErrKeyringKey = errors.New("barrier: physical key is the keyring")
	// ErrNotBarrierKey is returned by DecodeKey for a physical key outside
	// the barrier's namespace (the seal layer's plaintext records): it has
	// no logical key and nothing the barrier caches depends on it.
	ErrNotBarrierKey = errors.New("barrier: physical key is not barrier data")
	// ErrKeyLength is returned by Initialize for a root key that is not
	// KeySize bytes long.
	ErrKeyLength = errors.New("barrier: key must be 32 bytes")
)
