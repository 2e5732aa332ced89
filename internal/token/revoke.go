package token

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferdev/coffer/internal/storage"
)

// Revoke revokes e and all its descendants, depth first, calling
// Options.OnRevoke for each before deleting its keys. Revoking a token that
// is already gone succeeds. On error, the tokens revoked so far stay revoked
// and e stays marked revoked, so a retry finishes the job.
//
// Batch tokens cannot be revoked on their own (ErrBatchToken): they die
// with their parent or when they expire.
func (s *Store) Revoke(ctx context.Context, e *Entry) error {
	if e.Type == TypeBatch {
		return fmt.Errorf("%w: batch tokens cannot be revoked", ErrBatchToken)
	}
	_, err := s.revokeTree(ctx, e.Hash)
	return err
}

// revokeTree revokes the token stored under hash and its subtree and returns
// how many tokens it deleted. It holds the token's lock throughout, so no
// child can be linked to it meanwhile; locks are taken parent first.
func (s *Store) revokeTree(ctx context.Context, hash string) (int, error) {
	unlock := s.locks.lock(hash)
	defer unlock()
	e, err := s.markRevoked(ctx, hash)
	if err != nil || e == nil {
		return 0, err
	}
	children, err := s.view.List(ctx, childrenPrefix(hash))
	if err != nil {
		return 0, fmt.Errorf("list child tokens: %w", err)
	}
	n := 0
	ops := deleteOps(e)
	for _, child := range children {
		c, err := s.revokeTree(ctx, child)
		n += c
		if err != nil {
			return n, err
		}
		ops = append(ops, del(childKey(hash, child)))
	}
	if err := s.onRevoke(ctx, e); err != nil {
		return n, err
	}
	if err := s.view.Transaction(ctx, ops); err != nil {
		return n, fmt.Errorf("delete token: %w", err)
	}
	return n + 1, nil
}

// RevokeOrphan revokes e alone: its children lose their parent and become
// orphans. Each child is re-parented in its own transaction, then e is
// deleted; a retry after an error picks up where this stopped. Batch tokens
// give ErrBatchToken, as for Revoke.
func (s *Store) RevokeOrphan(ctx context.Context, e *Entry) error {
	if e.Type == TypeBatch {
		return fmt.Errorf("%w: batch tokens cannot be revoked", ErrBatchToken)
	}
	unlock := s.locks.lock(e.Hash)
	defer unlock()
	cur, err := s.markRevoked(ctx, e.Hash)
	if err != nil || cur == nil {
		return err
	}
	children, err := s.view.List(ctx, childrenPrefix(cur.Hash))
	if err != nil {
		return fmt.Errorf("list child tokens: %w", err)
	}
	for _, child := range children {
		if err := s.orphanChild(ctx, cur.Hash, child); err != nil {
			return err
		}
	}
	if err := s.onRevoke(ctx, cur); err != nil {
		return err
	}
	if err := s.view.Transaction(ctx, deleteOps(cur)); err != nil {
		return fmt.Errorf("delete token: %w", err)
	}
	return nil
}

// orphanChild unlinks child from parent: the child entry loses its parent
// and the index key goes, in one transaction. A child that no longer exists
// only loses its index key.
func (s *Store) orphanChild(ctx context.Context, parent, child string) error {
	unlock := s.locks.lock(child)
	defer unlock()
	ops := []storage.TxnOp{del(childKey(parent, child))}
	c, err := s.load(ctx, child)
	switch {
	case errors.Is(err, ErrInvalidToken):
	case err != nil:
		return err
	case c.Parent == parent:
		c.Parent = ""
		c.Orphan = true
		b, err := c.encode()
		if err != nil {
			return err
		}
		ops = append(ops, put(idKey(child), b))
	}
	if err := s.view.Transaction(ctx, ops); err != nil {
		return fmt.Errorf("orphan child token: %w", err)
	}
	return nil
}

// markRevoked loads the token under hash and, unless it is already marked,
// stores it with NumUses = -1 so it stops authenticating before its subtree
// is revoked. It returns nil, nil for a token that is already gone. The
// caller holds the token's lock.
func (s *Store) markRevoked(ctx context.Context, hash string) (*Entry, error) {
	e, err := s.load(ctx, hash)
	if errors.Is(err, ErrInvalidToken) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if e.revoked() {
		return e, nil
	}
	e.NumUses = numUsesRevoked
	b, err := e.encode()
	if err != nil {
		return nil, err
	}
	if err := s.view.Put(ctx, &storage.Entry{Key: idKey(hash), Value: b}); err != nil {
		return nil, fmt.Errorf("mark token revoked: %w", err)
	}
	return e, nil
}

func (s *Store) onRevoke(ctx context.Context, e *Entry) error {
	if s.opts.OnRevoke == nil {
		return nil
	}
	if err := s.opts.OnRevoke(ctx, e.clone()); err != nil {
		return fmt.Errorf("revoke token %s: %w", e.Accessor, err)
	}
	return nil
}

// RevokeExpired revokes every token whose expiry time has passed, with its
// descendants, and returns how many tokens it deleted. It walks the expiry
// index in time order and stops at the first entry still in the future.
// Errors for single tokens are collected and the walk goes on.
func (s *Store) RevokeExpired(ctx context.Context) (int, error) {
	now := s.now()
	buckets, err := s.view.List(ctx, expiryPrefix)
	if err != nil {
		return 0, fmt.Errorf("list expiry index: %w", err)
	}
	var errs []error
	n := 0
	for _, bucket := range buckets {
		t, ok := parseExpiryBucket(bucket)
		if ok && t.After(now) {
			break
		}
		hashes, err := s.view.List(ctx, expiryPrefix+bucket)
		if err != nil {
			errs = append(errs, fmt.Errorf("list expiry index: %w", err))
			continue
		}
		for _, hash := range hashes {
			c, err := s.revokeExpiredOne(ctx, expiryPrefix+bucket+hash, hash)
			n += c
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return n, errors.Join(errs...)
}

// revokeExpiredOne handles one expiry index key: it revokes the token if it
// is due, and deletes the key if it no longer matches a stored token.
func (s *Store) revokeExpiredOne(ctx context.Context, key, hash string) (int, error) {
	e, err := s.load(ctx, hash)
	switch {
	case errors.Is(err, ErrInvalidToken):
		return 0, s.deleteKey(ctx, key)
	case err != nil:
		return 0, err
	case expiryKey(e.ExpireTime, hash) != key:
		return 0, s.deleteKey(ctx, key)
	case !e.expiredAt(s.now()):
		return 0, nil
	}
	return s.revokeTree(ctx, hash)
}

func (s *Store) deleteKey(ctx context.Context, key string) error {
	if err := s.view.Delete(ctx, key); err != nil {
		return fmt.Errorf("delete index key: %w", err)
	}
	return nil
}
