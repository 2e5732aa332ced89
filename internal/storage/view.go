package storage

import (
	"context"
	"fmt"
	"strings"
)

// view is a Backend that keeps every key of an underlying Backend under a
// fixed prefix. Callers use keys relative to the prefix.
type view struct {
	b      Backend
	prefix string
	// err is set when the prefix given to NewView is invalid; every method
	// then fails with it instead of touching b.
	err error
}

var _ Backend = (*view)(nil)

// NewView returns a Backend that stores each key k as prefix+k in b. Keys
// given to the view are relative and checked with ValidateKey; List prefixes
// are relative too, and the view's children are reported as List on b reports
// them. prefix must pass ValidateKey and end in "/"; if it does not, every
// method of the returned view fails with an error wrapping ErrInvalidKey.
//
// A view of a view is flattened into one view of the innermost backend. The
// view does not own b: closing b remains the caller's job.
func NewView(b Backend, prefix string) Backend {
	if err := validateViewPrefix(prefix); err != nil {
		return &view{b: b, prefix: prefix, err: err}
	}
	if inner, ok := b.(*view); ok && inner.err == nil {
		return &view{b: inner.b, prefix: inner.prefix + prefix}
	}
	return &view{b: b, prefix: prefix}
}

func validateViewPrefix(prefix string) error {
	if err := ValidateKey(prefix); err != nil {
		return fmt.Errorf("view prefix %q: %w", prefix, err)
	}
	if !strings.HasSuffix(prefix, "/") {
		return fmt.Errorf("%w: view prefix %q must end in \"/\"", ErrInvalidKey, prefix)
	}
	return nil
}

// Get implements Backend.
func (v *view) Get(ctx context.Context, key string) (*Entry, error) {
	if err := v.checkKey(key); err != nil {
		return nil, err
	}
	e, err := v.b.Get(ctx, v.prefix+key)
	if err != nil {
		return nil, err
	}
	return &Entry{Key: key, Value: e.Value}, nil
}

// Put implements Backend.
func (v *view) Put(ctx context.Context, entry *Entry) error {
	if v.err != nil {
		return v.err
	}
	if err := ValidateEntry(entry); err != nil {
		return err
	}
	return v.b.Put(ctx, &Entry{Key: v.prefix + entry.Key, Value: entry.Value})
}

// Delete implements Backend.
func (v *view) Delete(ctx context.Context, key string) error {
	if err := v.checkKey(key); err != nil {
		return err
	}
	return v.b.Delete(ctx, v.prefix+key)
}

// List implements Backend.
func (v *view) List(ctx context.Context, prefix string) ([]string, error) {
	if v.err != nil {
		return nil, v.err
	}
	if err := ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	return v.b.List(ctx, v.prefix+prefix)
}

// Transaction implements Backend.
func (v *view) Transaction(ctx context.Context, ops []TxnOp) error {
	if v.err != nil {
		return v.err
	}
	if err := ValidateOps(ops); err != nil {
		return err
	}
	abs := make([]TxnOp, len(ops))
	for i, op := range ops {
		abs[i] = TxnOp{Kind: op.Kind, Entry: Entry{Key: v.prefix + op.Entry.Key, Value: op.Entry.Value}}
	}
	return v.b.Transaction(ctx, abs)
}

func (v *view) checkKey(key string) error {
	if v.err != nil {
		return v.err
	}
	return ValidateKey(key)
}
