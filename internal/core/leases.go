package core

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferdev/coffer/internal/lease"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/token"
)

// leaseStorePath is where the lease manager keeps leases inside the barrier.
const leaseStorePath = "sys/expire/"

// leaseRevoker lets the lease manager revoke and renew leases by calling the
// engine that issued them. It calls the mount's backend directly (no token,
// no ACL: the manager already decided) and never takes the state lock: sys
// handlers call the manager while holding it, and seal stops the manager
// before the barrier closes.
type leaseRevoker struct {
	st *unsealedState
}

var _ lease.Revoker = (*leaseRevoker)(nil)

func (r *leaseRevoker) request(l *lease.Lease, op logical.Operation) (*MountEntry, *logical.Request) {
	m := r.st.mounts.get(l.MountPoint)
	if m == nil {
		return nil, nil
	}
	return m, &logical.Request{
		Operation: op, Path: l.Path, MountPoint: m.Path, Storage: m.view,
		Secret: &logical.Secret{LeaseID: l.ID, InternalData: l.InternalData, TTL: l.TTL, MaxTTL: l.MaxTTL, Renewable: l.Renewable},
	}
}

// RevokeLease implements lease.Revoker. A lease whose mount is gone, or
// whose engine has nothing to undo, is simply dropped.
func (r *leaseRevoker) RevokeLease(ctx context.Context, l *lease.Lease) error {
	m, req := r.request(l, logical.RevokeOperation)
	if m == nil {
		return nil
	}
	_, err := m.backend.HandleRequest(ctx, req)
	switch logical.KindOf(err) {
	case logical.KindUnsupportedPath, logical.KindUnsupportedOperation:
		return nil
	}
	return err
}

// RenewLease implements lease.Revoker.
func (r *leaseRevoker) RenewLease(ctx context.Context, l *lease.Lease, increment time.Duration) (time.Duration, error) {
	m, req := r.request(l, logical.RenewOperation)
	if m == nil {
		return 0, logical.InvalidRequest("lease %q belongs to a mount that no longer exists", l.ID)
	}
	req.Data = map[string]any{"increment": int64(increment / time.Second)}
	resp, err := m.backend.HandleRequest(ctx, req)
	if err != nil {
		return 0, err
	}
	if resp == nil || resp.Secret == nil {
		return 0, logical.InvalidRequest("lease %q is not renewable", l.ID)
	}
	return resp.Secret.TTL, nil
}

// registerLease turns an engine's Secret into a stored lease bound to the
// requesting token, with TTLs capped by the mount's, and fills in its id.
func registerLease(ctx context.Context, st *unsealedState, m *MountEntry, rel string, te *token.Entry, s *logical.Secret) error {
	ttl, maxTTL := s.TTL, m.sys.MaxLeaseTTL()
	if ttl <= 0 {
		ttl = m.sys.DefaultLeaseTTL()
	}
	if s.MaxTTL > 0 && s.MaxTTL < maxTTL {
		maxTTL = s.MaxTTL
	}
	l := &lease.Lease{MountPoint: m.Path, Path: rel, TTL: ttl, MaxTTL: maxTTL,
		Renewable: s.Renewable, InternalData: s.InternalData}
	if te != nil {
		owner, err := st.tokens.LeaseOwner(ctx, te)
		if err != nil {
			return err
		}
		l.TokenAccessor = owner
	}
	if te != nil && te.Type == token.TypeBatch {
		// A batch token is not stored, so nothing can revoke a lease with
		// it (its parent's revocation does, see LeaseOwner); the lease ends
		// no later than the token does.
		if left := time.Until(te.ExpireTime); !te.ExpireTime.IsZero() && left < l.MaxTTL {
			l.MaxTTL = max(left, time.Second)
			l.TTL = min(l.TTL, l.MaxTTL)
		}
	}
	id, err := st.leases.Register(ctx, l)
	if err != nil {
		return err
	}
	s.LeaseID, s.TTL, s.InternalData = id, l.TTL, nil
	return nil
}

// leaseSecret registers the lease of a response's secret. If the lease
// cannot be stored, the secret is revoked at once so no credential outlives
// its record.
func (c *Core) leaseSecret(ctx context.Context, st *unsealedState, m *MountEntry, breq *logical.Request, te *token.Entry, s *logical.Secret) error {
	err := registerLease(ctx, st, m, breq.Path, te, s)
	if err == nil {
		return nil
	}
	rev := &leaseRevoker{st: st}
	if rerr := rev.RevokeLease(ctx, &lease.Lease{MountPoint: m.Path, Path: breq.Path, InternalData: s.InternalData}); rerr != nil {
		c.logger.Error("core: revoking a secret whose lease could not be stored failed", "mount", m.Path, "error", rerr)
	}
	return fmt.Errorf("core: store lease: %w", err)
}
