package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// Params say what to prepare.
type Params struct {
	// CredsPath is read once per lease, e.g. "database/creds/bench".
	CredsPath string
	// Count is how many leases to issue.
	Count int
	// Concurrency is how many requests run at once.
	Concurrency int
	// Headroom is the least time left between the last renewal and the
	// common expiry, for a baseline measurement.
	Headroom time.Duration
	// Sample is how many leases are looked up to check their expiry.
	Sample int
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
	// Sleep waits (default: time.Sleep, cut short by ctx); tests inject one.
	Sleep func(ctx context.Context, d time.Duration)
}

// Report is what Prepare did, printed as JSON for the script.
type Report struct {
	// Leases is how many leases were issued and aligned.
	Leases int `json:"leases"`
	// ExpireAt is the common expiry, in unix seconds: every lease expires
	// in [ExpireAt, ExpireAt+1).
	ExpireAt int64 `json:"expire_at"`
	// CreateSeconds and RenewSeconds are how long issuing and aligning took.
	CreateSeconds float64 `json:"create_seconds"`
	RenewSeconds  float64 `json:"renew_seconds"`
	// RenewedAt is when the last renewal returned, in unix seconds.
	RenewedAt float64 `json:"renewed_at"`
	// Sampled is how many leases were looked up; SampleMinExpire and
	// SampleMaxExpire are the extremes of their expire_time (unix seconds).
	Sampled         int     `json:"sampled"`
	SampleMinExpire float64 `json:"sample_min_expire"`
	SampleMaxExpire float64 `json:"sample_max_expire"`
}

// Errors returned by Prepare.
var (
	// ErrInvalidParams is returned for a non-positive count or concurrency.
	ErrInvalidParams = errors.New("invalid parameters")
	// ErrMisaligned is returned when a renewed lease does not expire in the
	// common second, or the renewals ate into the headroom.
	ErrMisaligned = errors.New("leases not aligned")
)

// Prepare issues p.Count credentials, then renews every lease so that all
// expire within the same second, chosen so that at least p.Headroom is left
// after the renewals, and checks a sample with sys/leases/lookup.
func Prepare(ctx context.Context, c *apiclient.Client, p Params, progress io.Writer) (*Report, error) {
	if p.Count < 1 || p.Concurrency < 1 || p.Sample < 0 || p.Headroom < 0 {
		return nil, fmt.Errorf("%w: count and concurrency must be positive", ErrInvalidParams)
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Sleep == nil {
		p.Sleep = sleepCtx
	}
	start := p.Now()
	ids, err := issue(ctx, c, p, progress)
	if err != nil {
		return nil, err
	}
	created := p.Now()
	createTime := created.Sub(start)
	// Renewals cost about what issuing did; leave half as much again spare.
	at := created.Add(createTime*3/2 + p.Headroom + 5*time.Second)
	expireAt := at.Truncate(time.Second).Add(time.Second).Unix()
	if err := align(ctx, c, p, ids, expireAt, progress); err != nil {
		return nil, err
	}
	renewed := p.Now()
	rep := &Report{Leases: len(ids), ExpireAt: expireAt, CreateSeconds: createTime.Seconds(),
		RenewSeconds: renewed.Sub(created).Seconds(), RenewedAt: unixSeconds(renewed)}
	if left := time.Unix(expireAt, 0).Sub(renewed); left < p.Headroom {
		return nil, fmt.Errorf("%w: renewals ended %s before the expiry, want at least %s (raise -headroom)", ErrMisaligned, left.Round(time.Millisecond), p.Headroom)
	}
	if err := verify(ctx, c, p, ids, expireAt, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// issue reads the credentials path p.Count times and returns the lease ids.
func issue(ctx context.Context, c *apiclient.Client, p Params, progress io.Writer) ([]string, error) {
	ids := make([]string, p.Count)
	err := forEach(ctx, p.Count, p.Concurrency, progress, "issued", func(ctx context.Context, i int) error {
		s, err := c.Do(ctx, http.MethodGet, p.CredsPath, nil, nil)
		if err != nil {
			return err
		}
		if s == nil || s.LeaseID == "" {
			return fmt.Errorf("GET /v1/%s: response has no lease", p.CredsPath)
		}
		ids[i] = s.LeaseID
		return nil
	})
	return ids, err
}

// align renews every lease with the increment that makes it expire in
// [expireAt, expireAt+1).
func align(ctx context.Context, c *apiclient.Client, p Params, ids []string, expireAt int64, progress io.Writer) error {
	return forEach(ctx, len(ids), p.Concurrency, progress, "renewed", func(ctx context.Context, i int) error {
		inc, wait := increment(p.Now(), expireAt)
		if wait > 0 {
			p.Sleep(ctx, wait)
			inc, _ = increment(p.Now(), expireAt)
		}
		if inc < 1 {
			return fmt.Errorf("%w: no time left to renew %s", ErrMisaligned, ids[i])
		}
		s, err := c.Do(ctx, http.MethodPut, "sys/leases/renew", map[string]any{"lease_id": ids[i], "increment": inc}, nil)
		if err != nil {
			return err
		}
		if s == nil || int64(s.LeaseDuration) != inc {
			got := -1
			if s != nil {
				got = s.LeaseDuration
			}
			return fmt.Errorf("%w: renewing %s for %ds granted %ds (check the role's max_ttl)", ErrMisaligned, ids[i], inc, got)
		}
		return nil
	})
}

// lateFraction is how late in a second a renewal waits for the next one:
// the server adds whole seconds to its own clock, so a request sent at
// k+0.99 could land after k+1 and expire a second late.
const lateFraction = 0.95

// increment is the whole number of seconds a lease renewed at now must get
// to expire in [expireAt, expireAt+1) (the server adds it to its own clock,
// which reads now plus the request's latency). When now is too close to the
// next second, wait says how long to sleep before computing it again.
func increment(now time.Time, expireAt int64) (inc int64, wait time.Duration) {
	frac := time.Duration(now.Nanosecond())
	if frac >= time.Duration(lateFraction*float64(time.Second)) {
		return 0, time.Second - frac
	}
	return expireAt - now.Unix(), 0
}

// verify looks up a random sample of the leases and checks that each
// expires in [expireAt, expireAt+1).
func verify(ctx context.Context, c *apiclient.Client, p Params, ids []string, expireAt int64, rep *Report) error {
	n := min(p.Sample, len(ids))
	pick := rand.Perm(len(ids))[:n]
	var mu sync.Mutex
	lo, hi := math.Inf(1), math.Inf(-1)
	err := forEach(ctx, n, p.Concurrency, nil, "", func(ctx context.Context, i int) error {
		id := ids[pick[i]]
		s, err := c.Do(ctx, http.MethodPut, "sys/leases/lookup", map[string]any{"lease_id": id}, nil)
		if err != nil {
			return err
		}
		if s == nil {
			return fmt.Errorf("lookup %s: empty response", id)
		}
		raw, _ := s.Data["expire_time"].(string)
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return fmt.Errorf("lookup %s: expire_time %q: %w", id, raw, err)
		}
		if t.Unix() != expireAt {
			return fmt.Errorf("%w: %s expires at %s, not in the second %s", ErrMisaligned, id, t.UTC().Format(time.RFC3339Nano), time.Unix(expireAt, 0).UTC().Format(time.RFC3339))
		}
		mu.Lock()
		lo, hi = math.Min(lo, unixSeconds(t)), math.Max(hi, unixSeconds(t))
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	rep.Sampled = n
	if n > 0 {
		rep.SampleMinExpire, rep.SampleMaxExpire = lo, hi
	}
	return nil
}

// forEach runs fn for 0..n-1 with up to conc at once and stops at the
// first error. With progress set it prints "<label> k/n" every second and
// at the end.
func forEach(ctx context.Context, n, conc int, progress io.Writer, label string, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
				done.Add(1)
			}
		})
	}
	stop := reportProgress(progress, label, n, &done)
	wg.Wait()
	stop()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// reportProgress prints the count once a second until stop is called, and
// once more then.
func reportProgress(w io.Writer, label string, n int, done *atomic.Int64) (stop func()) {
	if w == nil {
		return func() {}
	}
	quit, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				fmt.Fprintf(w, "%s %d/%d\n", label, done.Load(), n)
				return
			case <-tick.C:
				fmt.Fprintf(w, "%s %d/%d\n", label, done.Load(), n)
			}
		}
	}()
	return func() { close(quit); <-exited }
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
