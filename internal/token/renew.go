package token

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// RenewTerms are the settings a token's login would get now, which its
// renewal follows (Options.OnRenew): TTL is the default increment, a
// non-zero Period makes the token periodic, and a non-zero MaxTTL caps its
// life (it only ever lowers the token's own cap).
type RenewTerms struct {
	TTL, Period, MaxTTL time.Duration
}

// Renew extends e's lease by Vault's rules and returns the updated entry.
// A token created non-renewable, or one that never expires, gives
// ErrNotRenewable. A periodic token's TTL is reset to its period (bounded
// only by its explicit max TTL); any other token gets increment, or its
// creation TTL when increment is 0, capped so it never outlives its creation
// time plus the explicit max TTL or the system max TTL (ErrPastMaxTTL once
// that point is reached). Batch tokens are never renewable: ErrBatchToken.
// Options.OnRenew may refuse the renewal (its error is returned as is) or
// change those settings first; the changed period and cap are stored.
func (s *Store) Renew(ctx context.Context, e *Entry, increment time.Duration) (*Entry, error) {
	if e.Type == TypeBatch {
		return nil, fmt.Errorf("%w: batch tokens cannot be renewed", ErrBatchToken)
	}
	if increment < 0 {
		return nil, fmt.Errorf("%w: increment cannot be negative", ErrInvalidParams)
	}
	unlock := s.locks.lock(e.Hash)
	defer unlock()
	now := s.now()
	cur, err := s.loadLive(ctx, e.Hash, now)
	if err != nil {
		return nil, err
	}
	if !cur.expires() || !cur.Renewable {
		return nil, ErrNotRenewable
	}
	base := cur.TTL
	if s.opts.OnRenew != nil {
		terms, err := s.opts.OnRenew(ctx, cur)
		if err != nil {
			return nil, err
		}
		if terms != nil {
			base, cur.Period = terms.TTL, terms.Period
			if terms.MaxTTL > 0 && (cur.ExplicitMaxTTL == 0 || terms.MaxTTL < cur.ExplicitMaxTTL) {
				cur.ExplicitMaxTTL = terms.MaxTTL
			}
		}
	}
	ttl, err := s.calculateTTL(now, cur.CreationTime, increment, base, cur.Period, cur.ExplicitMaxTTL)
	if err != nil {
		return nil, err
	}
	oldKey := expiryKey(cur.ExpireTime, cur.Hash)
	cur.ExpireTime = now.Add(ttl)
	b, err := cur.encode()
	if err != nil {
		return nil, err
	}
	ops := []storage.TxnOp{put(idKey(cur.Hash), b)}
	if newKey := expiryKey(cur.ExpireTime, cur.Hash); newKey != oldKey {
		ops = append(ops, del(oldKey), put(newKey, []byte(cur.Hash)))
	}
	if err := s.view.Transaction(ctx, ops); err != nil {
		return nil, fmt.Errorf("renew token: %w", err)
	}
	return cur, nil
}
