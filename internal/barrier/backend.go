package barrier

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cofferdev/coffer/internal/storage"
)

// sealPrefix holds the seal layer's plaintext entries; see the package doc.
// reservedParent is the directory that holds both reserved areas.
const (
	sealPrefix     = "core/seal/"
	reservedParent = "core/"
)

// reserved reports whether key belongs to the barrier or the seal layer.
func reserved(key string) bool {
	return key == keyringPath || strings.HasPrefix(key, sealPrefix)
}

// Get returns the decrypted value at key. storage.ErrNotFound is returned
// unwrapped.
func (b *Barrier) Get(ctx context.Context, key string) (*storage.Entry, error) {
	if err := b.checkKey(key); err != nil {
		return nil, err
	}
	e, err := b.physical.Get(ctx, key)
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
	return &storage.Entry{Key: key, Value: plaintext}, nil
}

// Put encrypts entry.Value under the active term and stores it.
func (b *Barrier) Put(ctx context.Context, entry *storage.Entry) error {
	if err := b.checkUnsealed(); err != nil {
		return err
	}
	if err := storage.ValidateEntry(entry); err != nil {
		return fmt.Errorf("barrier: put: %w", err)
	}
	if err := b.checkKey(entry.Key); err != nil {
		return err
	}
	value, err := b.encryptValue(entry.Key, entry.Value)
	if err != nil {
		return err
	}
	if err := b.physical.Put(ctx, &storage.Entry{Key: entry.Key, Value: value}); err != nil {
		return fmt.Errorf("barrier: put %q: %w", entry.Key, err)
	}
	return nil
}

// Delete removes key.
func (b *Barrier) Delete(ctx context.Context, key string) error {
	if err := b.checkKey(key); err != nil {
		return err
	}
	if err := b.physical.Delete(ctx, key); err != nil {
		return fmt.Errorf("barrier: delete %q: %w", key, err)
	}
	return nil
}

// List returns the children of prefix, as if the reserved keys did not
// exist: they are left out, and so is "core/" when it holds nothing else.
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
	children, err := b.physical.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("barrier: list %q: %w", prefix, err)
	}
	var out []string
	for _, c := range children {
		switch full := prefix + c; {
		case reserved(full):
			continue
		case full == reservedParent:
			// One level of recursion: no child of "core/" is "core/".
			inner, err := b.List(ctx, full)
			if err != nil {
				return nil, err
			}
			if len(inner) == 0 {
				continue
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// Transaction encrypts the values of the put operations and applies ops
// atomically on the physical backend.
func (b *Barrier) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	if err := b.checkUnsealed(); err != nil {
		return err
	}
	if err := storage.ValidateOps(ops); err != nil {
		return fmt.Errorf("barrier: transaction: %w", err)
	}
	phys := make([]storage.TxnOp, len(ops))
	for i, op := range ops {
		if err := b.checkKey(op.Entry.Key); err != nil {
			return err
		}
		phys[i] = storage.TxnOp{Kind: op.Kind, Entry: storage.Entry{Key: op.Entry.Key}}
		if op.Kind == storage.OpPut {
			value, err := b.encryptValue(op.Entry.Key, op.Entry.Value)
			if err != nil {
				return err
			}
			phys[i].Entry.Value = value
		}
	}
	if err := b.physical.Transaction(ctx, phys); err != nil {
		return fmt.Errorf("barrier: transaction: %w", err)
	}
	return nil
}

// checkKey fails while sealed, then for invalid and reserved keys.
func (b *Barrier) checkKey(key string) error {
	if err := b.checkUnsealed(); err != nil {
		return err
	}
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

// encryptValue encrypts plaintext for key under the active term.
func (b *Barrier) encryptValue(key string, plaintext []byte) ([]byte, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.kr == nil {
		return nil, ErrSealed
	}
	tk := b.kr.active
	value, err := encrypt(tk.aead, tk.term, key, plaintext)
	if err != nil {
		return nil, err
	}
	tk.encryptions.Add(1)
	return value, nil
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
