package barrier

import (
	"fmt"
	"strings"

	"github.com/cofferdev/coffer/internal/storage"
)

// DecodeKey returns the logical key stored at physicalKey, a key as the
// physical backend reports it (for example in the list of keys a raft log
// entry touched on a standby node). It is the decryption List does, applied
// to every segment of the key.
//
// Keys that are not barrier data are reported apart, so the caller can tell
// them from damage: ErrKeyringKey for the keyring itself (the caller should
// call ReloadKeyring), ErrNotBarrierKey for every other key outside the
// barrier's namespace (the seal layer's "core/seal/..." records). A key in
// the namespace that does not decrypt to a valid logical key is ErrDecrypt;
// ErrSealed while sealed.
func (b *Barrier) DecodeKey(physicalKey string) (string, error) {
	if physicalKey == keyringPath {
		return "", ErrKeyringKey
	}
	rest, ok := strings.CutPrefix(physicalKey, dataPrefix)
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrNotBarrierKey, physicalKey)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.kr == nil {
		return "", ErrSealed
	}
	logical, err := b.kr.paths.logicalKey(rest)
	if err != nil {
		// The physical key is ciphertext; it may be named in errors.
		return "", fmt.Errorf("%w: key name %q: %w", ErrDecrypt, physicalKey, err)
	}
	if err := storage.ValidateKey(logical); err != nil || reserved(logical) {
		return "", fmt.Errorf("%w: key name %q: not a barrier key", ErrDecrypt, physicalKey)
	}
	return logical, nil
}

// Invalidate drops what the barrier caches for the logical key: its
// decrypted value. A Get of key that is reading the physical backend while
// Invalidate runs does not cache what it read, so after Invalidate returns
// the next Get reads the physical backend. Call it for every key whose
// physical entry changed without going through this barrier (a standby
// applying the active node's writes); the segment cache needs no dropping,
// since key names encrypt deterministically.
func (b *Barrier) Invalidate(key string) { b.values.invalidate(key) }
