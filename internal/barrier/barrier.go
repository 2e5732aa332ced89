package barrier

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// Options configure a Barrier.
type Options struct {
	// Now returns the time recorded as a term's install time; nil means
	// time.Now.
	Now func() time.Time
	// CacheEntries bounds the decrypted-entry cache (see valueCache); zero
	// means 16384 and a negative value disables it.
	CacheEntries int
}

// KeyStatus describes the active keyring term.
type KeyStatus struct {
	Term        uint32
	InstallTime time.Time
	// Encryptions counts values encrypted under Term by this process since
	// it unsealed (or since Term was created). It is not persisted.
	Encryptions int64
}

// Barrier encrypts values on their way to a physical backend. It starts
// sealed. See the package documentation for the layout and the locking.
type Barrier struct {
	physical storage.Backend
	now      func() time.Time
	values   *valueCache

	mu sync.RWMutex
	kr *keyring // nil while sealed
}

var _ storage.Backend = (*Barrier)(nil)

// New returns a sealed barrier over physical.
func New(physical storage.Backend, opts Options) *Barrier {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Barrier{physical: physical, now: now, values: newValueCache(opts.CacheEntries)}
}

// Initialized reports whether a keyring is stored.
func (b *Barrier) Initialized(ctx context.Context) (bool, error) {
	_, err := b.physical.Get(ctx, keyringPath)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("barrier: read keyring: %w", err)
	}
}

// Initialize stores a new keyring with term 1 and a new path key, encrypted
// under rootKey (KeySize bytes). The barrier stays sealed; call Unseal to
// use it. The check for an existing keyring and the write are not atomic:
// the caller (the core) must not initialize concurrently from two nodes.
func (b *Barrier) Initialize(ctx context.Context, rootKey []byte) error {
	root, err := newSecretKey(rootKey)
	if err != nil {
		return err
	}
	defer root.zero()

	b.mu.Lock()
	defer b.mu.Unlock()
	switch ok, err := b.Initialized(ctx); {
	case err != nil:
		return err
	case ok:
		return ErrAlreadyInitialized
	}
	kr, err := newKeyring(root)
	if err != nil {
		return err
	}
	if kr.paths, err = generatePathCipher(); err != nil {
		return err
	}
	tk, err := b.generateTermKey(1)
	if err != nil {
		kr.zeroKeys()
		return err
	}
	kr = kr.withTerm(tk)
	defer kr.zeroKeys()
	return b.writeKeyring(ctx, kr)
}

// Unseal loads the keyring with rootKey. A key that does not open the
// keyring yields ErrWrongKey and nothing else. Unsealing an unsealed barrier
// with its own root key does nothing; with another key it is ErrWrongKey.
func (b *Barrier) Unseal(ctx context.Context, rootKey []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.kr != nil {
		if subtle.ConstantTimeCompare(rootKey, b.kr.root.b[:]) != 1 {
			return ErrWrongKey
		}
		return nil
	}
	root, err := newSecretKey(rootKey)
	if err != nil {
		return ErrWrongKey
	}
	kr, err := b.readKeyring(ctx, root)
	if err != nil {
		root.zero()
		return err
	}
	b.kr = kr
	return nil
}

// Seal zeroes and forgets the root key, every keyring key and the path key,
// and drops the segment cache and the decrypted-entry cache.
func (b *Barrier) Seal() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.values.reset()
	if b.kr != nil {
		b.kr.zero()
		b.kr = nil
	}
}

// Sealed reports whether the barrier is sealed.
func (b *Barrier) Sealed() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.kr == nil
}

// Rotate adds a new keyring term and makes it active. The new keyring is
// stored (one Put) before any value is encrypted under the new term; if that
// write fails the keyring is unchanged. Old terms stay for reading.
func (b *Barrier) Rotate(ctx context.Context) (uint32, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.kr == nil {
		return 0, ErrSealed
	}
	if b.kr.active.term == math.MaxUint32 {
		return 0, errors.New("barrier: rotate: key terms exhausted")
	}
	tk, err := b.generateTermKey(b.kr.active.term + 1)
	if err != nil {
		return 0, err
	}
	next := b.kr.withTerm(tk)
	if err := b.writeKeyring(ctx, next); err != nil {
		tk.key.zero()
		return 0, err
	}
	b.values.reset()
	b.kr = next
	return tk.term, nil
}

// ReloadKeyring re-reads the keyring from storage with the current root key,
// for nodes that did not perform a Rotate themselves. Encryption counts of
// terms already known are kept, and so is the path cipher with its cache. A
// stored keyring whose path key differs from the loaded one is refused
// (ErrPathKeyChanged): the path key is never rotated, and adopting another
// one would hide every stored key. On error the loaded keyring is unchanged.
func (b *Barrier) ReloadKeyring(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.kr == nil {
		return ErrSealed
	}
	next, err := b.readKeyring(ctx, b.kr.root)
	if err != nil {
		return fmt.Errorf("barrier: reload keyring: %w", err)
	}
	same := next.paths.sameKey(b.kr.paths)
	next.paths.zero()
	if !same {
		next.zeroTerms()
		return ErrPathKeyChanged
	}
	next.paths = b.kr.paths
	next.inheritCounters(b.kr)
	b.values.reset()
	b.kr.zeroTerms()
	b.kr = next
	return nil
}

// ClearCache empties the decrypted-entry cache. Call it after the physical
// storage changed without going through this barrier.
func (b *Barrier) ClearCache() { b.values.reset() }

// KeyStatus describes the active term; it is the zero value while sealed.
func (b *Barrier) KeyStatus() KeyStatus {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.kr == nil {
		return KeyStatus{}
	}
	a := b.kr.active
	return KeyStatus{Term: a.term, InstallTime: a.installTime, Encryptions: a.encryptions.Load()}
}

// RootKey returns a copy of the root key, for rekey and generate-root flows.
// The caller owns the copy and should clear it when done.
func (b *Barrier) RootKey() ([]byte, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.kr == nil {
		return nil, ErrSealed
	}
	return append([]byte(nil), b.kr.root.b[:]...), nil
}

// generatePathCipher returns the path cipher of a new random path key.
func generatePathCipher() (*pathCipher, error) {
	raw, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	return newPathCipher(raw)
}

func (b *Barrier) generateTermKey(term uint32) (*termKey, error) {
	raw, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	return newTermKey(term, raw, b.now().UTC())
}

func (b *Barrier) writeKeyring(ctx context.Context, kr *keyring) error {
	value, err := kr.encrypt()
	if err != nil {
		return err
	}
	if err := b.physical.Put(ctx, &storage.Entry{Key: keyringPath, Value: value}); err != nil {
		return fmt.Errorf("barrier: write keyring: %w", err)
	}
	return nil
}

func (b *Barrier) readKeyring(ctx context.Context, root *secretKey) (*keyring, error) {
	e, err := b.physical.Get(ctx, keyringPath)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, ErrNotInitialized
	case err != nil:
		return nil, fmt.Errorf("barrier: read keyring: %w", err)
	}
	return openKeyring(root, e.Value)
}
