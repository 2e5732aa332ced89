package barrier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cofferdev/coffer/internal/storage"
)

// sealPrefix holds the seal layer's plaintext entries; see the package doc.
const sealPrefix = "core/seal/"

// reserved reports whether key belongs to the barrier or the seal layer.
func reserved(key string) bool {
	return key == keyringPath || strings.HasPrefix(key, sealPrefix)
}

// Get returns the decrypted value at key, from the decrypted-entry cache
// when it holds key. storage.ErrNotFound is returned unwrapped.
func (b *Barrier) Get(ctx context.Context, key string) (*storage.Entry, error) {
	cached, hit, gen, err := b.cachedValue(key)
	if err != nil {
		return nil, err
	}
	if hit {
		return &storage.Entry{Key: key, Value: cached}, nil
	}
	phys, err := b.physicalKey(key)
	if err != nil {
		return nil, err
	}
	e, err := b.physical.Get(ctx, phys)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("barrier: get %q: %w", key, err)
	}
	plaintext, err := b.decryptValue(key, e.Value)
	if err != nil {
		return nil, err
	}
	b.values.add(key, plaintext, gen)
	return &storage.Entry{Key: key, Value: plaintext}, nil
}

// cachedValue returns a copy of key's cached value, if any, and otherwise
// the cache generation to insert under; ErrSealed while sealed.
func (b *Barrier) cachedValue(key string) (value []byte, hit bool, gen uint64, err error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.kr == nil {
		return nil, false, 0, ErrSealed
	}
	value, hit, gen = b.values.get(key)
	return value, hit, gen, nil
}

// Put encrypts entry.Value under the active term and stores it.
func (b *Barrier) Put(ctx context.Context, entry *storage.Entry) error {
	if entry != nil {
		b.values.begin(entry.Key)
		defer b.values.end(entry.Key)
	}
	if err := b.checkUnsealed(); err != nil {
		return err
	}
	if err := storage.ValidateEntry(entry); err != nil {
		return fmt.Errorf("barrier: put: %w", err)
	}
	phys, value, err := b.encryptEntry(entry.Key, entry.Value)
	if err != nil {
		return err
	}
	if err := b.physical.Put(ctx, &storage.Entry{Key: phys, Value: value}); err != nil {
		return fmt.Errorf("barrier: put %q: %w", entry.Key, err)
	}
	return nil
}

// Delete removes key.
func (b *Barrier) Delete(ctx context.Context, key string) error {
	b.values.begin(key)
	defer b.values.end(key)
	phys, err := b.physicalKey(key)
	if err != nil {
		return err
	}
	if err := b.physical.Delete(ctx, phys); err != nil {
		return fmt.Errorf("barrier: delete %q: %w", key, err)
	}
	return nil
}

// List returns the sorted children of prefix. It lists the physical folder
// of the prefix's last "/", decrypts the children's names and, when the
// prefix ends inside a segment ("a/b" rather than "a/"), keeps the names
// that extend that segment. The reserved keys are not barrier data and are
// never listed. A stored name that does not decrypt is ErrDecrypt.
func (b *Barrier) List(ctx context.Context, prefix string) ([]string, error) {
	if err := b.checkUnsealed(); err != nil {
		return nil, err
	}
	if err := storage.ValidatePrefix(prefix); err != nil {
		return nil, fmt.Errorf("barrier: list %q: %w", prefix, err)
	}
	if reserved(prefix) {
		return nil, fmt.Errorf("barrier: list %q: %w", prefix, ErrReservedKey)
	}
	folder, partial := splitPrefix(prefix)
	phys, err := b.physicalFolder(folder)
	if err != nil {
		return nil, err
	}
	children, err := b.physical.List(ctx, phys)
	if err != nil {
		return nil, fmt.Errorf("barrier: list %q: %w", prefix, err)
	}
	names, err := b.openChildren(prefix, children)
	if err != nil {
		return nil, err
	}
	names = trimChildren(names, partial)
	if len(names) == 0 {
		return nil, nil
	}
	slices.Sort(names)
	return names, nil
}

// Transaction encrypts the keys of all operations and the values of the
// put operations, and applies ops atomically on the physical backend.
func (b *Barrier) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	keys := make([]string, len(ops))
	for i, op := range ops {
		keys[i] = op.Entry.Key
	}
	b.values.begin(keys...)
	defer b.values.end(keys...)
	if err := b.checkUnsealed(); err != nil {
		return err
	}
	if err := storage.ValidateOps(ops); err != nil {
		return fmt.Errorf("barrier: transaction: %w", err)
	}
	phys := make([]storage.TxnOp, len(ops))
	for i, op := range ops {
		var (
			key   string
			value []byte
			err   error
		)
		if op.Kind == storage.OpPut {
			key, value, err = b.encryptEntry(op.Entry.Key, op.Entry.Value)
		} else {
			key, err = b.physicalKey(op.Entry.Key)
		}
		if err != nil {
			return err
		}
		phys[i] = storage.TxnOp{Kind: op.Kind, Entry: storage.Entry{Key: key, Value: value}}
	}
	if err := b.physical.Transaction(ctx, phys); err != nil {
		return fmt.Errorf("barrier: transaction: %w", err)
	}
	return nil
}

// checkKey fails for invalid and reserved keys.
func checkKey(key string) error {
	if err := storage.ValidateKey(key); err != nil {
		return fmt.Errorf("barrier: key %q: %w", key, err)
	}
	if reserved(key) {
		return fmt.Errorf("barrier: key %q: %w", key, ErrReservedKey)
	}
	return nil
}

func (b *Barrier) checkUnsealed() error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.kr == nil {
		return ErrSealed
	}
	return nil
}

// physicalKey fails while sealed, then for invalid and reserved keys, and
// returns the physical key of key.
func (b *Barrier) physicalKey(key string) (string, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.kr == nil {
		return "", ErrSealed
	}
	if err := checkKey(key); err != nil {
		return "", err
	}
	return b.kr.paths.physicalKey(key), nil
}

// physicalFolder returns the physical key of folder, a valid List prefix
// that is "" or ends in "/".
func (b *Barrier) physicalFolder(folder string) (string, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.kr == nil {
		return "", ErrSealed
	}
	return b.kr.paths.physicalKey(folder), nil
}

// openChildren decrypts the names a physical List of prefix's folder
// returned. Errors name the logical prefix only.
func (b *Barrier) openChildren(prefix string, children []string) ([]string, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.kr == nil {
		return nil, ErrSealed
	}
	names, err := b.kr.paths.openChildren(children)
	if err != nil {
		return nil, fmt.Errorf("%w: key name under %q: %w", ErrDecrypt, prefix, err)
	}
	return names, nil
}

// encryptEntry checks key and returns its physical key and plaintext
// encrypted for it under the active term, under one read lock.
func (b *Barrier) encryptEntry(key string, plaintext []byte) (string, []byte, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.kr == nil {
		return "", nil, ErrSealed
	}
	if err := checkKey(key); err != nil {
		return "", nil, err
	}
	tk := b.kr.active
	value, err := encrypt(tk.aead, tk.term, key, plaintext)
	if err != nil {
		return "", nil, err
	}
	tk.encryptions.Add(1)
	return b.kr.paths.physicalKey(key), value, nil
}

// decryptValue decrypts a stored value for key with the term it names.
func (b *Barrier) decryptValue(key string, value []byte) ([]byte, error) {
	term, err := termOf(value)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrDecrypt, key, err)
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.kr == nil {
		return nil, ErrSealed
	}
	tk := b.kr.terms[term]
	if tk == nil {
		return nil, fmt.Errorf("%w: %q: %w %d", ErrDecrypt, key, errUnknownTerm, term)
	}
	plaintext, err := decrypt(tk.aead, key, value)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrDecrypt, key, err)
	}
	return plaintext, nil
}
