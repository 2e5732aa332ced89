package netctl

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// Vault's user_lockout defaults.
const (
	DefaultLockoutThreshold    = 5
	DefaultLockoutDuration     = 15 * time.Minute
	DefaultLockoutCounterReset = 15 * time.Minute
)

// LockoutConfig is one `user_lockout` stanza.
type LockoutConfig struct {
	// Threshold is the number of failures that locks a user out.
	Threshold int
	// Duration is how long a lockout lasts.
	Duration time.Duration
	// CounterReset forgets failures older than this.
	CounterReset time.Duration
	// Disable turns lockout off.
	Disable bool
}

// DefaultLockout is Vault's default user lockout.
func DefaultLockout() LockoutConfig {
	return LockoutConfig{Threshold: DefaultLockoutThreshold, Duration: DefaultLockoutDuration,
		CounterReset: DefaultLockoutCounterReset}
}

// BanConfig sets the automatic ban of an address after repeated login
// failures across users.
type BanConfig struct {
	// Threshold failures within Window ban the address; 0 disables bans.
	Threshold int
	Window    time.Duration
	// Duration is how long a ban lasts.
	Duration time.Duration
}

// LockedUser is one locked-out user, as sys/locked-users lists them.
type LockedUser struct {
	MountAccessor string
	User          string
	IP            netip.Addr
	Until         time.Time
}

// Ban is one banned address.
type Ban struct {
	IP    netip.Addr
	Until time.Time
}

type lockKey struct {
	accessor, user string
	ip             netip.Addr
}

type failures struct {
	count       int
	last        time.Time
	lockedUntil time.Time
}

// logins tracks failures per (mount, user, address) and per address.
type logins struct {
	// nbanned mirrors len(banned), so address checks skip the lock when no
	// address is banned.
	nbanned atomic.Int64
	mu      sync.Mutex
	users   map[lockKey]*failures
	byIP    map[netip.Addr][]time.Time
	banned  map[netip.Addr]time.Time
}

// denied is the client-facing error of a refused login: the reason stays
// in the chain for logs and errors.Is.
func denied(reason error) error {
	return &logical.Error{Kind: logical.KindPermissionDenied, Msg: "permission denied", Err: reason}
}

// authType derives the auth method type from a mount accessor
// ("userpass_1a2b3c4d", or Vault's "auth_userpass_1a2b3c4d").
func authType(accessor string) string {
	t := strings.TrimPrefix(accessor, "auth_")
	if i := strings.LastIndexByte(t, '_'); i > 0 {
		t = t[:i]
	}
	return t
}

// lockoutFor returns the lockout settings of the accessor's auth type.
func (c *Controls) lockoutFor(accessor string) LockoutConfig {
	if lc, ok := c.opts.Lockout[authType(accessor)]; ok {
		return lc
	}
	if lc, ok := c.opts.Lockout["all"]; ok {
		return lc
	}
	return DefaultLockout()
}

// CheckLogin refuses a login attempt from a banned or blocklisted address
// or for a user locked out on that mount from that address. Errors are
// permission-denied logical errors wrapping ErrBanned, ErrBlocked or
// ErrLockedOut.
func (c *Controls) CheckLogin(mountAccessor, user string, ip netip.Addr) error {
	ip = ip.Unmap().WithZone("")
	if err := c.CheckAddr(ip); err != nil {
		return denied(err)
	}
	now := c.now()
	c.logins.mu.Lock()
	defer c.logins.mu.Unlock()
	f := c.logins.users[lockKey{mountAccessor, user, ip}]
	if f != nil && now.Before(f.lockedUntil) {
		return denied(ErrLockedOut)
	}
	return nil
}

// RecordLogin counts a failed attempt toward the user's lockout and the
// address's ban, or forgets the user's failures from that address after a
// success.
func (c *Controls) RecordLogin(mountAccessor, user string, ip netip.Addr, ok bool) {
	ip = ip.Unmap().WithZone("")
	now := c.now()
	key := lockKey{mountAccessor, user, ip}
	l := &c.logins
	l.mu.Lock()
	defer l.mu.Unlock()
	if ok {
		delete(l.users, key)
		return
	}
	if lc := c.lockoutFor(mountAccessor); !lc.Disable && lc.Threshold > 0 {
		f := l.users[key]
		if f == nil || now.Sub(f.last) >= lc.CounterReset || (!f.lockedUntil.IsZero() && !now.Before(f.lockedUntil)) {
			f = &failures{}
			l.users[key] = f
		}
		f.count++
		f.last = now
		if f.count >= lc.Threshold && f.lockedUntil.IsZero() {
			f.lockedUntil = now.Add(lc.Duration)
			c.logger.Warn("netctl: user locked out after failed logins", "mount_accessor", mountAccessor,
				"client_ip", ip.String(), "failures", f.count, "until", f.lockedUntil)
		}
	}
	c.countBanFailure(ip, now)
}

// countBanFailure records one failure from ip and bans it at the threshold.
// The caller holds l.mu.
func (c *Controls) countBanFailure(ip netip.Addr, now time.Time) {
	b := c.opts.Ban
	if b.Threshold <= 0 || !ip.IsValid() {
		return // requests from inside the server have no address to ban
	}
	l := &c.logins
	ts := slices.DeleteFunc(l.byIP[ip], func(t time.Time) bool { return now.Sub(t) >= b.Window })
	ts = append(ts, now)
	if len(ts) < b.Threshold {
		l.byIP[ip] = ts
		return
	}
	delete(l.byIP, ip)
	l.banned[ip] = now.Add(b.Duration)
	l.nbanned.Store(int64(len(l.banned)))
	c.logger.Warn("netctl: client address banned after repeated login failures", "client_ip", ip.String(),
		"failures", len(ts), "until", l.banned[ip])
}

// banned reports whether ip is banned now.
func (c *Controls) banned(ip netip.Addr) bool {
	if c.logins.nbanned.Load() == 0 {
		return false
	}
	now := c.now()
	c.logins.mu.Lock()
	defer c.logins.mu.Unlock()
	until, ok := c.logins.banned[ip]
	return ok && now.Before(until)
}

// LockedUsers lists the users locked out now, sorted by mount, user and
// address.
func (c *Controls) LockedUsers() []LockedUser {
	now := c.now()
	c.logins.mu.Lock()
	var out []LockedUser
	for k, f := range c.logins.users {
		if now.Before(f.lockedUntil) {
			out = append(out, LockedUser{MountAccessor: k.accessor, User: k.user, IP: k.ip, Until: f.lockedUntil})
		}
	}
	c.logins.mu.Unlock()
	slices.SortFunc(out, func(a, b LockedUser) int {
		return strings.Compare(a.MountAccessor+"\x00"+a.User+"\x00"+a.IP.String(),
			b.MountAccessor+"\x00"+b.User+"\x00"+b.IP.String())
	})
	return out
}

// Unlock clears the user's failures and lockouts on the mount from every
// address, reporting how many entries it cleared.
func (c *Controls) Unlock(mountAccessor, user string) int {
	c.logins.mu.Lock()
	defer c.logins.mu.Unlock()
	n := 0
	for k := range c.logins.users {
		if k.accessor == mountAccessor && k.user == user {
			delete(c.logins.users, k)
			n++
		}
	}
	return n
}

// Bans lists the addresses banned now, sorted.
func (c *Controls) Bans() []Ban {
	now := c.now()
	c.logins.mu.Lock()
	var out []Ban
	for ip, until := range c.logins.banned {
		if now.Before(until) {
			out = append(out, Ban{IP: ip, Until: until})
		}
	}
	c.logins.mu.Unlock()
	slices.SortFunc(out, func(a, b Ban) int { return a.IP.Compare(b.IP) })
	return out
}

// Unban lifts a ban, reporting whether ip was banned.
func (c *Controls) Unban(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	c.logins.mu.Lock()
	defer c.logins.mu.Unlock()
	_, ok := c.logins.banned[ip]
	delete(c.logins.banned, ip)
	delete(c.logins.byIP, ip)
	c.logins.nbanned.Store(int64(len(c.logins.banned)))
	return ok
}

// sweep drops expired lockouts, stale counters and expired bans.
func (l *logins) sweep(now time.Time, counterReset, window time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, f := range l.users {
		if !now.Before(f.lockedUntil) && now.Sub(f.last) >= counterReset {
			delete(l.users, k)
		}
	}
	for ip, ts := range l.byIP {
		if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= window {
			delete(l.byIP, ip)
		}
	}
	for ip, until := range l.banned {
		if !now.Before(until) {
			delete(l.banned, ip)
		}
	}
	l.nbanned.Store(int64(len(l.banned)))
}
