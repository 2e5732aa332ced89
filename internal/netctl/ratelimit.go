package netctl

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultQuotaInterval is a quota's interval when none is given.
const DefaultQuotaInterval = time.Second

// DefaultExemptPaths are the paths rate-limit quotas never apply to, as in
// Vault: health and seal status for load balancers and monitors, and the
// operator endpoints that must work while everything else is throttled.
func DefaultExemptPaths() []string {
	return []string{
		"sys/generate-recovery-token/attempt", "sys/generate-recovery-token/update",
		"sys/generate-root/attempt", "sys/generate-root/update",
		"sys/health", "sys/seal-status", "sys/unseal",
	}
}

// Quota is one rate-limit quota: at most Rate requests per Interval from
// each client address on paths under Path.
type Quota struct {
	Name string
	// Path is a mount path or path prefix ("secret/", "auth/userpass/login");
	// "" applies to every path. The most specific quota wins.
	Path string
	// Rate is the number of requests allowed per Interval; > 0.
	Rate float64
	// Interval is the window Rate is counted over (DefaultQuotaInterval if
	// zero).
	Interval time.Duration
	// BlockInterval, if set, refuses a client that exceeded the quota for
	// this long.
	BlockInterval time.Duration
}

// Validate checks a quota's settings; errors wrap ErrInvalidQuota.
func (q Quota) Validate() error {
	switch {
	case q.Name == "":
		return fmt.Errorf("%w: missing name", ErrInvalidQuota)
	case !(q.Rate > 0) || math.IsInf(q.Rate, 0):
		return fmt.Errorf("%w: rate must be positive", ErrInvalidQuota)
	case q.Interval < 0:
		return fmt.Errorf("%w: interval must not be negative", ErrInvalidQuota)
	case q.BlockInterval < 0:
		return fmt.Errorf("%w: block_interval must not be negative", ErrInvalidQuota)
	}
	return nil
}

// QuotaConfig is the sys/quotas/config settings.
type QuotaConfig struct {
	// ExemptPaths are path prefixes no quota applies to.
	ExemptPaths []string
	// ResponseHeaders adds X-Ratelimit-* headers to limited responses.
	ResponseHeaders bool
}

// Decision is the outcome of a rate-limit check.
type Decision struct {
	// Allowed is false when the request exceeds its quota.
	Allowed bool
	// Quota names the quota that applied, "" when none did.
	Quota string
	// Limit is the quota's rate; Remaining the requests left now.
	Limit, Remaining int
	// Reset is when the client's allowance is full again.
	Reset time.Duration
	// RetryAfter is when a refused client may try again.
	RetryAfter time.Duration
	// Headers reports whether the response should carry X-Ratelimit-*.
	Headers bool
}

// bucket is one client's token bucket under one quota.
type bucket struct {
	tokens       float64
	last         time.Time
	blockedUntil time.Time
}

type bucketKey struct {
	quota string
	ip    netip.Addr
}

// limiter holds the quotas and the client buckets.
type limiter struct {
	// active is set while any quota exists, so requests skip the lock when
	// none does.
	active  atomic.Bool
	mu      sync.Mutex
	quotas  []Quota // most specific (longest path) first
	cfg     QuotaConfig
	buckets map[bucketKey]*bucket
}

// SetQuotas replaces every quota. Client allowances start afresh.
func (c *Controls) SetQuotas(qs []Quota) error {
	out := make([]Quota, 0, len(qs))
	for _, q := range qs {
		if err := q.Validate(); err != nil {
			return err
		}
		q.Path = NormalizePrefix(q.Path)
		if q.Interval == 0 {
			q.Interval = DefaultQuotaInterval
		}
		out = append(out, q)
	}
	slices.SortStableFunc(out, func(a, b Quota) int {
		return cmp.Or(cmp.Compare(len(b.Path), len(a.Path)), cmp.Compare(a.Name, b.Name))
	})
	c.limit.mu.Lock()
	defer c.limit.mu.Unlock()
	c.limit.quotas = out
	c.limit.buckets = map[bucketKey]*bucket{}
	c.limit.active.Store(len(out) > 0)
	return nil
}

// SetQuotaConfig replaces the exempt paths and header setting.
func (c *Controls) SetQuotaConfig(cfg QuotaConfig) {
	c.limit.mu.Lock()
	defer c.limit.mu.Unlock()
	cfg.ExemptPaths = slices.Clone(cfg.ExemptPaths)
	c.limit.cfg = cfg
}

// RateLimit charges one request on apiPath (the path after /v1/) from ip
// against the most specific quota that covers it.
func (c *Controls) RateLimit(apiPath string, ip netip.Addr) Decision {
	l := &c.limit
	if !l.active.Load() {
		return Decision{Allowed: true}
	}
	p := cleanAPIPath(apiPath)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.quotas) == 0 {
		return Decision{Allowed: true}
	}
	for _, e := range l.cfg.ExemptPaths {
		if matchPrefix(NormalizePrefix(e), p) {
			return Decision{Allowed: true}
		}
	}
	i := slices.IndexFunc(l.quotas, func(q Quota) bool { return q.Path == "" || matchPrefix(q.Path, p) })
	if i < 0 {
		return Decision{Allowed: true}
	}
	return l.take(l.quotas[i], ip, c.now())
}

// take charges one token from the client's bucket under q.
func (l *limiter) take(q Quota, ip netip.Addr, now time.Time) Decision {
	perSec := q.Rate / q.Interval.Seconds()
	d := Decision{Quota: q.Name, Limit: int(math.Ceil(q.Rate)), Headers: l.cfg.ResponseHeaders}
	key := bucketKey{quota: q.Name, ip: ip}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: q.Rate, last: now}
		l.buckets[key] = b
	}
	if now.Before(b.blockedUntil) {
		d.RetryAfter = b.blockedUntil.Sub(now)
		d.Reset = d.RetryAfter
		return d
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(q.Rate, b.tokens+el.Seconds()*perSec)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		d.Allowed = true
		d.Remaining = int(b.tokens)
		d.Reset = secondsDuration((q.Rate - b.tokens) / perSec)
		return d
	}
	d.RetryAfter = secondsDuration((1 - b.tokens) / perSec)
	if q.BlockInterval > 0 {
		b.blockedUntil = now.Add(q.BlockInterval)
		d.RetryAfter = q.BlockInterval
	}
	d.Reset = d.RetryAfter
	return d
}

// sweep drops buckets that are full again and not blocked.
func (l *limiter) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	byName := make(map[string]Quota, len(l.quotas))
	for _, q := range l.quotas {
		byName[q.Name] = q
	}
	for k, b := range l.buckets {
		q, ok := byName[k.quota]
		if !ok || (!now.Before(b.blockedUntil) && now.Sub(b.last) >= q.Interval) {
			delete(l.buckets, k)
		}
	}
}

func secondsDuration(s float64) time.Duration {
	if s <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(s * float64(time.Second)))
}
