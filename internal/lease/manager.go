package lease

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// Manager owns the leases stored in one view. It is safe for concurrent use.
// Register, Lookup, Renew and the revoke methods work whether or not the
// manager is started; only Start runs the expiry timer.
type Manager struct {
	st   store
	rev  Revoker
	opts Options
	log  *slog.Logger

	// txMu serialises read-modify-write of stored leases. It is never held
	// while the Revoker runs.
	txMu sync.Mutex

	mu      sync.Mutex // guards the fields below
	timer   Timer
	timerAt time.Time
	wake    chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
}

// New returns a manager over view (a barrier view private to leases) that
// revokes and renews through revoker.
func New(view storage.Backend, revoker Revoker, opts Options) *Manager {
	opts = opts.withDefaults()
	return &Manager{st: store{view: view}, rev: revoker, opts: opts, log: opts.Logger}
}

func (m *Manager) now() time.Time { return m.opts.Now() }

// Register stores a new lease for l.MountPoint+l.Path that expires after
// l.TTL (capped by l.MaxTTL), fills in l.ID, l.IssueTime, l.ExpireTime and
// l.DueTime, and returns the id: "<mount><path>/<random>", as Vault.
func (m *Manager) Register(ctx context.Context, l *Lease) (string, error) {
	if l.TTL <= 0 {
		return "", fmt.Errorf("lease: register: ttl must be positive")
	}
	id := l.MountPoint + strings.TrimSuffix(l.Path, "/") + "/" + rand.Text()
	if err := ValidateID(id); err != nil {
		return "", err
	}
	now := m.now()
	l.ID, l.IssueTime = id, now
	if l.MaxTTL > 0 && l.TTL > l.MaxTTL {
		l.TTL = l.MaxTTL
	}
	l.ExpireTime = now.Add(l.TTL)
	l.DueTime = l.ExpireTime
	m.txMu.Lock()
	err := m.st.put(ctx, nil, l)
	m.txMu.Unlock()
	if err != nil {
		return "", err
	}
	m.arm(l.DueTime)
	return id, nil
}

// Lookup returns the lease with id, or ErrNotFound.
func (m *Manager) Lookup(ctx context.Context, id string) (*Lease, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	return m.st.get(ctx, id)
}

// Renew asks the lease's engine to extend it by increment (zero: the
// engine's default) and moves its expiry to now plus the granted TTL, capped
// by the lease's max TTL. capped reports that the cap shortened the TTL.
func (m *Manager) Renew(ctx context.Context, id string, increment time.Duration) (l *Lease, capped bool, err error) {
	l, err = m.Lookup(ctx, id)
	if err != nil {
		return nil, false, err
	}
	now := m.now()
	if !l.Renewable || l.Irrevocable || !now.Before(l.ExpireTime) {
		return nil, false, fmt.Errorf("%w: %s", ErrNotRenewable, id)
	}
	remaining := time.Duration(-1)
	if l.MaxTTL > 0 {
		remaining = l.IssueTime.Add(l.MaxTTL).Sub(now)
		if remaining <= 0 {
			return nil, false, fmt.Errorf("%w: %s", ErrMaxTTL, id)
		}
		if increment > remaining {
			increment, capped = remaining, true
		}
	}
	ttl, err := m.rev.RenewLease(ctx, l, increment)
	if err != nil {
		return nil, false, fmt.Errorf("lease: renew %q: %w", id, err)
	}
	if ttl <= 0 {
		ttl = increment
	}
	if ttl <= 0 {
		ttl = l.TTL
	}
	if remaining > 0 && ttl > remaining {
		ttl, capped = remaining, true
	}
	return m.applyRenewal(ctx, id, now, ttl, capped)
}

func (m *Manager) applyRenewal(ctx context.Context, id string, now time.Time, ttl time.Duration, capped bool) (*Lease, bool, error) {
	m.txMu.Lock()
	old, err := m.st.get(ctx, id)
	if err != nil {
		m.txMu.Unlock()
		return nil, false, err
	}
	l := *old
	l.TTL, l.ExpireTime, l.LastRenewal = ttl, now.Add(ttl), now
	l.DueTime = l.ExpireTime
	err = m.st.put(ctx, old, &l)
	m.txMu.Unlock()
	if err != nil {
		return nil, false, err
	}
	m.arm(l.DueTime)
	return &l, capped, nil
}

// Revoke revokes one lease now, through its engine, and deletes it. An
// engine failure is returned and the lease kept.
func (m *Manager) Revoke(ctx context.Context, id string) error {
	l, err := m.Lookup(ctx, id)
	if err != nil {
		return err
	}
	return m.revokeOne(ctx, l, false)
}

// revokeOne revokes l through the Revoker and deletes it; with force a
// failed revocation is logged and the lease deleted anyway.
func (m *Manager) revokeOne(ctx context.Context, l *Lease, force bool) error {
	if err := m.rev.RevokeLease(ctx, l); err != nil {
		if !force {
			return fmt.Errorf("lease: revoke %q: %w", l.ID, err)
		}
		m.log.Warn("lease: forced revocation dropped a lease whose revocation failed", "lease", l, "error", err)
	}
	m.txMu.Lock()
	defer m.txMu.Unlock()
	cur, err := m.st.get(ctx, l.ID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return m.st.remove(ctx, cur)
}

// RevokePrefix revokes every lease whose id starts with prefix,
// synchronously. A prefix without a trailing "/" that names a lease revokes
// that lease; otherwise "/" is added, as Vault does. Without force the first
// failure stops the walk and is returned; with force failed revocations are
// logged and their leases deleted.
func (m *Manager) RevokePrefix(ctx context.Context, prefix string, force bool) error {
	prefix = strings.TrimPrefix(prefix, "/")
	if prefix == "" {
		return fmt.Errorf("%w: empty prefix", ErrInvalidID)
	}
	if !strings.HasSuffix(prefix, "/") {
		l, err := m.Lookup(ctx, prefix)
		switch {
		case err == nil:
			return m.revokeOne(ctx, l, force)
		case !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrInvalidID):
			return err
		}
		prefix += "/"
	}
	if err := ValidatePrefix(prefix); err != nil {
		return err
	}
	return m.st.walk(ctx, leasePrefix+prefix, func(key string) error {
		l, err := m.st.get(ctx, strings.TrimPrefix(key, leasePrefix))
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return m.revokeOne(ctx, l, force)
	})
}

// RevokeByToken schedules every lease created by the token with accessor for
// revocation now and returns how many it scheduled. Revocation then runs on
// the expiry path, with its retries, so a token revocation never waits on or
// fails because of an engine.
func (m *Manager) RevokeByToken(ctx context.Context, accessor string) (int, error) {
	if accessor == "" {
		return 0, nil
	}
	names, err := m.st.view.List(ctx, tokenPrefix+accessorHash(accessor)+"/")
	if err != nil {
		return 0, fmt.Errorf("lease: list token index: %w", err)
	}
	now, n := m.now(), 0
	for _, name := range names {
		id, err := m.st.readValue(ctx, tokenPrefix+accessorHash(accessor)+"/"+name)
		if err != nil {
			return n, err
		}
		ok, err := m.expireNow(ctx, id, now)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	if n > 0 {
		m.arm(now)
	}
	return n, nil
}

// expireNow moves a lease's expiry to now; false if it is gone or
// irrevocable.
func (m *Manager) expireNow(ctx context.Context, id string, now time.Time) (bool, error) {
	m.txMu.Lock()
	defer m.txMu.Unlock()
	old, err := m.st.get(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && old.Irrevocable) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	l := *old
	l.ExpireTime, l.DueTime = now, now
	return true, m.st.put(ctx, old, &l)
}

// List returns the immediate children of prefix among lease ids: lease id
// suffixes, and folders ending in "/". prefix is "" or ends in "/".
func (m *Manager) List(ctx context.Context, prefix string) ([]string, error) {
	if prefix != "" {
		if err := ValidatePrefix(prefix); err != nil {
			return nil, err
		}
	}
	keys, err := m.st.view.List(ctx, leasePrefix+prefix)
	if err != nil {
		return nil, fmt.Errorf("lease: list %q: %w", prefix, err)
	}
	return keys, nil
}

// Irrevocable returns the leases whose revocation failed MaxAttempts times.
func (m *Manager) Irrevocable(ctx context.Context) ([]*Lease, error) {
	names, err := m.st.view.List(ctx, irrevocablePrefix)
	if err != nil {
		return nil, fmt.Errorf("lease: list irrevocable: %w", err)
	}
	var out []*Lease
	for _, name := range names {
		id, err := m.st.readValue(ctx, irrevocablePrefix+name)
		if err != nil {
			return nil, err
		}
		l, err := m.st.get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}
