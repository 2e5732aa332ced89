package token

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// renewCase creates a token, renews it steps times (each after elapsed) and
// checks the outcome of the last renewal.
type renewCase struct {
	name string
	p    CreateParams
	// maxTTL is the system max; 0 keeps the 768h default.
	maxTTL time.Duration
	// steps renewals happen, each after elapsed.
	steps     int
	elapsed   time.Duration
	increment time.Duration
	wantTTL   time.Duration // remaining after the last renewal
	wantErr   error
}

func renewCases() []renewCase {
	return []renewCase{
		{name: "own ttl again", p: CreateParams{TTL: time.Hour}, elapsed: 30 * time.Minute, wantTTL: time.Hour},
		{name: "increment", p: CreateParams{TTL: time.Hour}, elapsed: 10 * time.Minute, increment: 3 * time.Hour, wantTTL: 3 * time.Hour},
		{name: "capped by explicit max from creation", p: CreateParams{TTL: time.Hour, ExplicitMaxTTL: 90 * time.Minute}, elapsed: 50 * time.Minute, increment: time.Hour, wantTTL: 40 * time.Minute},
		{name: "capped by system max from creation", p: CreateParams{TTL: 700 * time.Hour}, elapsed: 600 * time.Hour, wantTTL: 168 * time.Hour},
		{name: "repeated renewals stop at system max", p: CreateParams{TTL: time.Hour}, maxTTL: 2 * time.Hour, steps: 2, elapsed: 50 * time.Minute, wantTTL: 20 * time.Minute},
		{name: "period outlives system max", p: CreateParams{Period: time.Hour}, maxTTL: 2 * time.Hour, steps: 5, elapsed: 50 * time.Minute, wantTTL: time.Hour},
		{name: "period bounded by explicit max", p: CreateParams{Period: time.Hour, ExplicitMaxTTL: 2 * time.Hour}, steps: 2, elapsed: 45 * time.Minute, wantTTL: 30 * time.Minute},
		{name: "period ignores increment", p: CreateParams{Period: time.Hour}, elapsed: time.Minute, increment: 5 * time.Hour, wantTTL: time.Hour},
		{name: "not renewable", p: CreateParams{TTL: time.Hour, Renewable: boolPtr(false)}, wantErr: ErrNotRenewable},
		{name: "never expires", p: rootParams(), wantErr: ErrNotRenewable},
		{name: "expired", p: CreateParams{TTL: time.Hour}, elapsed: time.Hour, wantErr: ErrInvalidToken},
		{name: "negative increment", p: CreateParams{TTL: time.Hour}, increment: -time.Second, wantErr: ErrInvalidParams},
	}
}

func TestRenew(t *testing.T) {
	ctx := context.Background()
	for _, tt := range renewCases() {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestStore(t)
			if tt.maxTTL != 0 {
				ts.opts.MaxTTL = func() time.Duration { return tt.maxTTL }
			}
			_, e := mustCreate(t, ts.Store, tt.p)
			var got *Entry
			var err error
			for range max(tt.steps, 1) {
				ts.clock.Advance(tt.elapsed)
				if got, err = ts.Renew(ctx, e, tt.increment); err != nil {
					break
				}
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Renew error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Renew: %v", err)
			}
			if left := got.ExpireTime.Sub(ts.clock.Now()); left != tt.wantTTL {
				t.Errorf("remaining = %v, want %v", left, tt.wantTTL)
			}
			stored, err := ts.LookupAccessor(ctx, e.Accessor)
			if err != nil || !stored.ExpireTime.Equal(got.ExpireTime) {
				t.Fatalf("stored entry %v, %v does not match renewal", stored, err)
			}
			if keys := ts.mem.keys(expiryPrefix); len(keys) != 1 || keys[0] != expiryKey(got.ExpireTime, e.Hash) {
				t.Errorf("expiry index = %v", keys)
			}
		})
	}
}

// TestRenewPastMaxTTL lowers the system max below a token's age, as a mount
// tune can: the token keeps its expiry but can no longer be renewed.
func TestRenewPastMaxTTL(t *testing.T) {
	ts := newTestStore(t)
	var maxTTL atomic.Int64
	maxTTL.Store(int64(768 * time.Hour))
	ts.opts.MaxTTL = func() time.Duration { return time.Duration(maxTTL.Load()) }
	_, e := mustCreate(t, ts.Store, CreateParams{TTL: time.Hour})
	ts.clock.Advance(30 * time.Minute)
	maxTTL.Store(int64(20 * time.Minute))
	if _, err := ts.Renew(context.Background(), e, 0); !errors.Is(err, ErrPastMaxTTL) {
		t.Fatalf("Renew past the max TTL = %v, want ErrPastMaxTTL", err)
	}
}
