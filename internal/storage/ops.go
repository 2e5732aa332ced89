package storage

import (
	"errors"
	"fmt"
)

// ErrInvalidOp is returned by Transaction for an operation whose Kind is
// neither OpPut nor OpDelete.
var ErrInvalidOp = errors.New("storage: invalid transaction operation")

// ValidateEntry checks an entry passed to Put: it must be non-nil and its key
// must pass ValidateKey.
func ValidateEntry(entry *Entry) error {
	if entry == nil {
		return fmt.Errorf("%w: nil entry", ErrInvalidKey)
	}
	return ValidateKey(entry.Key)
}

// ValidatePrefix checks a List prefix: either the empty prefix (the root) or
// a string that passes ValidateKey.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return ValidateKey(prefix)
}

// ValidateOps checks every operation of a transaction. Backends call it before
// applying anything, so a transaction with one bad operation changes nothing.
func ValidateOps(ops []TxnOp) error {
	for i, op := range ops {
		if op.Kind != OpPut && op.Kind != OpDelete {
			return fmt.Errorf("%w: operation %d has kind %d", ErrInvalidOp, i, op.Kind)
		}
		if err := ValidateKey(op.Entry.Key); err != nil {
			return fmt.Errorf("operation %d: %w", i, err)
		}
	}
	return nil
}
