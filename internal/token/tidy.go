package token

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Tidy removes dangling index entries left by crashes or older bugs: accessor
// and expiry keys of tokens that no longer exist, children index keys of
// missing children, and children index keys of missing parents (whose
// children become orphans). It returns how many keys it fixed. Errors for
// single keys are collected and the sweep goes on.
func (s *Store) Tidy(ctx context.Context) (int, error) {
	var errs []error
	total := 0
	for _, sweep := range []func(context.Context) (int, error){
		s.tidyAccessors, s.tidyParents, s.tidyExpiry,
	} {
		n, err := sweep(ctx)
		total += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}

// exists reports whether a token entry is stored under hash. It reads
// storage itself: tidying repairs what is stored, not what is cached.
func (s *Store) exists(ctx context.Context, hash string) (bool, error) {
	_, err := s.loadStored(ctx, hash)
	if errors.Is(err, ErrInvalidToken) {
		return false, nil
	}
	return err == nil, err
}

func (s *Store) tidyAccessors(ctx context.Context) (int, error) {
	accs, err := s.view.List(ctx, accessorPrefix)
	if err != nil {
		return 0, fmt.Errorf("list accessors: %w", err)
	}
	n := 0
	var errs []error
	for _, acc := range accs {
		se, err := s.view.Get(ctx, accessorKey(acc))
		if err != nil {
			errs = append(errs, fmt.Errorf("read accessor index: %w", err))
			continue
		}
		ok, err := s.exists(ctx, string(se.Value))
		if err == nil && !ok {
			if err = s.deleteKey(ctx, accessorKey(acc)); err == nil {
				n++
			}
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

func (s *Store) tidyParents(ctx context.Context) (int, error) {
	parents, err := s.view.List(ctx, parentPrefix)
	if err != nil {
		return 0, fmt.Errorf("list children index: %w", err)
	}
	n := 0
	var errs []error
	for _, p := range parents {
		parent := strings.TrimSuffix(p, "/")
		c, err := s.tidyChildren(ctx, parent)
		n += c
		if err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// tidyChildren fixes the children index of one parent. While the parent
// exists its lock is held, so no revocation or creation runs under it.
func (s *Store) tidyChildren(ctx context.Context, parent string) (int, error) {
	unlock := s.locks.lock(parent)
	defer unlock()
	parentOK, err := s.exists(ctx, parent)
	if err != nil {
		return 0, err
	}
	children, err := s.view.List(ctx, childrenPrefix(parent))
	if err != nil {
		return 0, fmt.Errorf("list child tokens: %w", err)
	}
	n := 0
	for _, child := range children {
		childOK, err := s.exists(ctx, child)
		if err != nil {
			return n, err
		}
		switch {
		case !childOK:
			err = s.deleteKey(ctx, childKey(parent, child))
		case !parentOK:
			err = s.orphanChild(ctx, parent, child)
		default:
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (s *Store) tidyExpiry(ctx context.Context) (int, error) {
	buckets, err := s.view.List(ctx, expiryPrefix)
	if err != nil {
		return 0, fmt.Errorf("list expiry index: %w", err)
	}
	n := 0
	var errs []error
	for _, bucket := range buckets {
		hashes, err := s.view.List(ctx, expiryPrefix+bucket)
		if err != nil {
			errs = append(errs, fmt.Errorf("list expiry index: %w", err))
			continue
		}
		for _, hash := range hashes {
			key := expiryPrefix + bucket + hash
			e, err := s.loadStored(ctx, hash)
			switch {
			case errors.Is(err, ErrInvalidToken):
			case err != nil:
				errs = append(errs, err)
				continue
			case expiryKey(e.ExpireTime, hash) == key:
				continue
			}
			if err := s.deleteKey(ctx, key); err != nil {
				errs = append(errs, err)
				continue
			}
			n++
		}
	}
	return n, errors.Join(errs...)
}
