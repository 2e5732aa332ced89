// Package lease is Coffer's lease manager: it stores every lease with an
// index ordered by expiry, waits on one timer for the next expiry, revokes
// expired leases through the core with retries and backoff, and serves the
// sys/leases API.
package lease

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"golang.org/x/time/rate"
)

// Revoker is what the manager needs from the core: it sends the engine that
// created a lease a revoke or renew request. Implementations must be safe for
// concurrent use and revocation must be idempotent: a lease may be revoked
// again after a crash between revocation and the storage update.
type Revoker interface {
	// RevokeLease asks the lease's engine to revoke it.
	RevokeLease(ctx context.Context, l *Lease) error
	// RenewLease asks the lease's engine to extend it by increment (zero:
	// the engine's default) and returns the TTL the engine granted.
	RenewLease(ctx context.Context, l *Lease, increment time.Duration) (time.Duration, error)
}

// Timer is a pending call scheduled by Options.AfterFunc.
type Timer interface {
	Stop() bool
}

// Options configures a Manager. Zero fields take the defaults noted.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives revocation failures (default: discard).
	Logger *slog.Logger
	// RetryBase is the delay before the first retry of a failed revocation;
	// each further attempt doubles it, up to MaxRetryDelay (default 1s).
	RetryBase time.Duration
	// MaxRetryDelay caps the backoff (default 10m).
	MaxRetryDelay time.Duration
	// MaxAttempts is how many failed revocations make a lease irrevocable
	// (default 6, as Vault).
	MaxAttempts int
	// BatchSize is how many index entries are read at a time (default 256).
	BatchSize int
	// Workers is how many revocations run at once (default 8). It bounds
	// the share of the machine a mass expiry takes from other requests.
	Workers int
	// RevocationRate bounds how many expired leases are revoked per second
	// (default 1000; negative: no bound). A mass expiry (thousands of
	// leases due in the same second) then spreads over a few seconds
	// instead of taking the machine from the requests being served.
	RevocationRate float64
	// AfterFunc schedules f after d (default time.AfterFunc); tests inject
	// a fake clock's.
	AfterFunc func(d time.Duration, f func()) Timer

	// pace waits for the next revocation slot; built from RevocationRate.
	pace func(ctx context.Context) error
}

// Defaults of Options.Workers and Options.RevocationRate.
const (
	defaultWorkers        = 8
	defaultRevocationRate = 1000
)

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RetryBase <= 0 {
		o.RetryBase = time.Second
	}
	if o.MaxRetryDelay <= 0 {
		o.MaxRetryDelay = 10 * time.Minute
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 6
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.Workers <= 0 {
		o.Workers = defaultWorkers
	}
	if o.AfterFunc == nil {
		o.AfterFunc = func(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
	}
	if o.RevocationRate == 0 {
		o.RevocationRate = defaultRevocationRate
	}
	if o.pace == nil {
		o.pace = func(context.Context) error { return nil }
		if o.RevocationRate > 0 {
			lim := rate.NewLimiter(rate.Limit(o.RevocationRate), o.Workers)
			o.pace = lim.Wait
		}
	}
	return o
}

// Lease is one lease as stored. InternalData is engine-private and never
// returned to clients or logged.
type Lease struct {
	// ID is "<mount><path>/<random>", e.g. "database/creds/ro/Xy12...".
	ID string `json:"id"`
	// MountPoint is the mount that created the lease, e.g. "database/".
	MountPoint string `json:"mount_point"`
	// Path is the request path that created the lease, relative to the mount.
	Path string `json:"path"`
	// TokenAccessor is the accessor of the token that created the lease.
	TokenAccessor string `json:"token_accessor,omitempty"`
	// TTL is the TTL granted at issue or at the last renewal.
	TTL time.Duration `json:"ttl"`
	// MaxTTL caps ExpireTime at IssueTime+MaxTTL; zero means no cap.
	MaxTTL       time.Duration  `json:"max_ttl,omitempty"`
	Renewable    bool           `json:"renewable"`
	InternalData map[string]any `json:"internal_data,omitempty"`
	IssueTime    time.Time      `json:"issue_time"`
	ExpireTime   time.Time      `json:"expire_time"`
	LastRenewal  time.Time      `json:"last_renewal,omitzero"`
	// DueTime is the lease's place in the expiry index: ExpireTime, or the
	// time of the next revocation attempt after a failure.
	DueTime time.Time `json:"due_time"`
	// Attempts counts failed revocations; LastError is the latest failure.
	Attempts  int    `json:"attempts,omitempty"`
	LastError string `json:"last_error,omitempty"`
	// Irrevocable is set after MaxAttempts failures: the lease is no longer
	// retried until a forced revocation.
	Irrevocable bool `json:"irrevocable,omitempty"`
}

// LogValue keeps InternalData out of logs.
func (l *Lease) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", l.ID), slog.Time("expire_time", l.ExpireTime),
		slog.Int("attempts", l.Attempts), slog.String("internal_data", "[REDACTED]"))
}

// Sentinel errors.
var (
	// ErrNotFound is returned for an unknown or already revoked lease.
	ErrNotFound = errors.New("lease: not found")
	// ErrNotRenewable is returned when renewing a lease that is not renewable,
	// expired, or irrevocable.
	ErrNotRenewable = errors.New("lease: not renewable")
	// ErrMaxTTL is returned when renewing a lease that reached its max TTL.
	ErrMaxTTL = errors.New("lease: max TTL reached")
	// ErrInvalidID is returned for a malformed lease id or prefix.
	ErrInvalidID = errors.New("lease: invalid lease id")
	// ErrStopped is returned by operations on a stopped manager.
	ErrStopped = errors.New("lease: manager stopped")
)
