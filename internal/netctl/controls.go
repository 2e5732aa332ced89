package netctl

import (
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of the network settings.
const (
	DefaultBlocklistReloadInterval = 5 * time.Second
	DefaultBanThreshold            = 20
	DefaultBanWindow               = 5 * time.Minute
	DefaultBanDuration             = 15 * time.Minute
	// sweepInterval is how often expired lockouts, bans and idle rate-limit
	// buckets are dropped from memory.
	sweepInterval = 30 * time.Second
)

// Options configure Controls.
type Options struct {
	Logger *slog.Logger
	// Now is the clock (time.Now if nil); tests inject one.
	Now func() time.Time
	// Lockout maps auth types ("userpass", "approle", or "all" for every
	// other type) to their lockout settings; DefaultLockout when absent.
	Lockout map[string]LockoutConfig
	// Ban sets the automatic address ban; a zero Threshold disables it.
	Ban BanConfig
	// BlocklistFile, if set, is loaded at New and reloaded when its mtime or
	// size changes (polled every BlocklistReloadInterval) and on
	// ReloadBlocklist.
	BlocklistFile           string
	BlocklistReloadInterval time.Duration
}

// Controls is the server-wide network-controls state: blocklist, bans,
// lockouts and rate-limit quotas. It implements core.NetworkGuard. It is
// safe for concurrent use; Close stops its background goroutine.
type Controls struct {
	opts      Options
	logger    *slog.Logger
	now       func() time.Time
	blocklist atomic.Pointer[CIDRSet]
	limit     limiter
	logins    logins

	mu    sync.Mutex // guards stamp
	stamp fileStamp

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// New builds Controls, loading the blocklist file if one is set (an
// unreadable file at start is an error), and starts the background reload
// and sweep.
func New(opts Options) (*Controls, error) {
	if opts.Ban.Threshold < 0 || opts.Ban.Window < 0 || opts.Ban.Duration < 0 {
		return nil, fmt.Errorf("netctl: ban settings must not be negative")
	}
	if opts.Ban.Threshold > 0 && (opts.Ban.Window == 0 || opts.Ban.Duration == 0) {
		return nil, fmt.Errorf("netctl: ban_window and ban_duration must be positive when ban_threshold is set")
	}
	if opts.BlocklistReloadInterval <= 0 {
		opts.BlocklistReloadInterval = DefaultBlocklistReloadInterval
	}
	c := &Controls{opts: opts, logger: opts.Logger, now: opts.Now,
		stop: make(chan struct{}), done: make(chan struct{})}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.limit.buckets = map[bucketKey]*bucket{}
	c.limit.cfg = QuotaConfig{ExemptPaths: DefaultExemptPaths()}
	c.logins = logins{users: map[lockKey]*failures{}, byIP: map[netip.Addr][]time.Time{},
		banned: map[netip.Addr]time.Time{}}
	c.blocklist.Store(&CIDRSet{})
	if opts.BlocklistFile != "" {
		if err := c.loadBlocklist(opts.BlocklistFile); err != nil {
			return nil, err
		}
	}
	go c.run()
	return c, nil
}

// Close stops the background goroutine. It is safe to call more than once.
func (c *Controls) Close() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
}

// CheckAddr refuses a blocklisted (ErrBlocked) or banned (ErrBanned)
// address.
func (c *Controls) CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap().WithZone("")
	if c.blocklist.Load().Contains(ip) {
		return ErrBlocked
	}
	if c.banned(ip) {
		return ErrBanned
	}
	return nil
}

// run polls the blocklist and sweeps expired state until Close.
func (c *Controls) run() {
	defer close(c.done)
	poll := time.NewTicker(c.opts.BlocklistReloadInterval)
	defer poll.Stop()
	sweep := time.NewTicker(sweepInterval)
	defer sweep.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-poll.C:
			if c.opts.BlocklistFile != "" {
				c.pollBlocklist()
			}
		case <-sweep.C:
			c.sweep()
		}
	}
}

// sweep drops state that no longer affects any decision.
func (c *Controls) sweep() {
	now := c.now()
	reset := DefaultLockoutCounterReset
	for _, lc := range c.opts.Lockout {
		reset = max(reset, lc.CounterReset, lc.Duration)
	}
	c.logins.sweep(now, reset, c.opts.Ban.Window)
	c.limit.sweep(now)
}
