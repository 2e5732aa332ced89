package lease

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/storage/inmem"
)

func TestRenew(t *testing.T) {
	tests := []struct {
		name      string
		maxTTL    time.Duration
		renewable bool
		elapsed   time.Duration
		increment time.Duration
		engineTTL time.Duration
		wantTTL   time.Duration
		wantCap   bool
		wantErr   error
	}{
		{"extends", 0, true, 30 * time.Second, time.Hour, 0, time.Hour, false, nil},
		{"engine decides", 0, true, 0, time.Hour, 10 * time.Minute, 10 * time.Minute, false, nil},
		{"zero increment keeps ttl", 0, true, 0, 0, 0, time.Minute, false, nil},
		{"capped by max ttl", 2 * time.Minute, true, 30 * time.Second, time.Hour, 0, 90 * time.Second, true, nil},
		{"last second of max ttl", time.Minute, true, 59 * time.Second, time.Hour, 0, time.Second, true, nil},
		{"not renewable", 0, false, 0, time.Hour, 0, 0, false, ErrNotRenewable},
		{"expired", 0, true, time.Minute, time.Hour, 0, 0, false, ErrNotRenewable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t, Options{})
			h.rev.renewTo = tc.engineTTL
			id, err := h.mgr.Register(ctx, &Lease{MountPoint: "db/", Path: "creds/r", TTL: time.Minute,
				MaxTTL: tc.maxTTL, Renewable: tc.renewable})
			if err != nil {
				t.Fatal(err)
			}
			h.clock.Advance(tc.elapsed)
			l, capped, err := h.mgr.Renew(ctx, id, tc.increment)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Renew err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := h.mgr.Lookup(ctx, id)
			if l.TTL != tc.wantTTL || capped != tc.wantCap || !stored.ExpireTime.Equal(h.clock.Now().Add(tc.wantTTL)) ||
				!stored.LastRenewal.Equal(h.clock.Now()) {
				t.Fatalf("Renew = ttl %v capped %v, stored expiry in %v; want ttl %v capped %v",
					l.TTL, capped, stored.ExpireTime.Sub(h.clock.Now()), tc.wantTTL, tc.wantCap)
			}
		})
	}
}

func TestRenewMovesExpiry(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Options{})
	id := h.register(t, "db/", "creds/r", "", time.Minute)
	if _, _, err := h.mgr.Renew(ctx, id, time.Hour); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(2 * time.Minute)
	h.mgr.expireDue(ctx)
	if got := h.rev.revokedIDs(); len(got) != 0 {
		t.Fatalf("renewed lease revoked at its old expiry: %v", got)
	}
	h.clock.Advance(time.Hour)
	h.mgr.expireDue(ctx)
	if got := h.rev.revokedIDs(); !slices.Equal(got, []string{id}) {
		t.Fatalf("revoked %v, want %s at its new expiry", got, id)
	}
}

func TestRestartExpiresDueLeases(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Options{})
	due := h.register(t, "db/", "creds/r", "", time.Second)
	later := h.register(t, "db/", "creds/r", "", 3*time.Hour)
	if err := h.mgr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	h.mgr.Stop()
	h.clock.Advance(time.Hour) // the server is down for an hour
	m2 := h.newManager(Options{})
	if err := m2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m2.Stop)
	waitFor(t, "the overdue lease to be revoked after Start", func() bool {
		return slices.Equal(h.rev.revokedIDs(), []string{due})
	})
	waitFor(t, "the timer armed for the later lease", func() bool {
		a := h.clock.active()
		return len(a) == 1 && a[0].Equal(h.clock.Now().Add(2*time.Hour))
	})
	h.clock.Advance(2 * time.Hour)
	waitFor(t, "the later lease to expire on time", func() bool { return len(h.rev.revokedIDs()) == 2 })
	if got := h.rev.revokedIDs(); got[1] != later {
		t.Fatalf("revoked %v", got)
	}
}

func TestStartReadsOneBatch(t *testing.T) {
	for _, n := range []int{0, 10, 3000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ctx := context.Background()
			cb := &countingBackend{Backend: inmem.New()}
			h := newHarness(t, Options{})
			h.store = cb
			h.mgr = h.newManager(Options{})
			for i := range n {
				h.register(t, "db/", "creds/r", "", time.Duration(i+1)*time.Minute)
			}
			cb.reset()
			m := h.newManager(Options{})
			if err := m.Start(ctx); err != nil {
				t.Fatal(err)
			}
			m.Stop()
			// One List per index level on the way to the first entry, no Get,
			// and the names listed are bounded by the level fan-out, not n.
			if cb.gets != 0 || cb.lists > expiryDepth || cb.listed > 4*100 {
				t.Fatalf("Start with %d leases: %d gets, %d lists, %d names listed", n, cb.gets, cb.lists, cb.listed)
			}
		})
	}
}

func TestTidy(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Options{})
	keep := h.register(t, "db/", "creds/r", "acc", time.Hour)
	gone := h.register(t, "db/", "creds/r", "acc", time.Hour)
	// Simulate a crash that lost the lease entry but kept its indexes.
	if err := h.store.Delete(ctx, leasePrefix+gone); err != nil {
		t.Fatal(err)
	}
	n, err := h.mgr.Tidy(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Tidy = %d, %v; want 2 dangling entries removed", n, err)
	}
	if n, _ := h.mgr.Tidy(ctx); n != 0 {
		t.Fatalf("second Tidy removed %d", n)
	}
	l, err := h.mgr.Lookup(ctx, keep)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.Get(ctx, expiryKey(l.DueTime, keep)); err != nil {
		t.Fatalf("Tidy removed a live index entry: %v", err)
	}
}
