package lease

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRegisterID(t *testing.T) {
	h := newHarness(t, Options{})
	id := h.register(t, "database/", "creds/ro", "acc", time.Minute)
	if !strings.HasPrefix(id, "database/creds/ro/") || len(id) <= len("database/creds/ro/") {
		t.Fatalf("lease id %q does not have the shape <mount><path>/<random>", id)
	}
	l, err := h.mgr.Lookup(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !l.ExpireTime.Equal(h.clock.Now().Add(time.Minute)) || l.InternalData["username"] != "u" {
		t.Fatalf("stored lease = %+v", l)
	}
	if _, err := h.mgr.Register(context.Background(), &Lease{MountPoint: "a/", Path: "b"}); err == nil {
		t.Fatal("Register with zero TTL succeeded")
	}
}

func TestExpiryOrder(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Options{BatchSize: 2})
	byTTL := map[time.Duration]string{}
	for _, ttl := range []time.Duration{5 * time.Second, time.Second, 3 * time.Second, 4 * time.Second, 2 * time.Second} {
		byTTL[ttl] = h.register(t, "db/", "creds/r", "", ttl)
	}
	steps := []struct {
		advance time.Duration
		want    []time.Duration
	}{
		{0, nil},
		{2 * time.Second, []time.Duration{time.Second, 2 * time.Second}},
		{500 * time.Millisecond, []time.Duration{time.Second, 2 * time.Second}},
		{10 * time.Second, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second, 5 * time.Second}},
	}
	for i, st := range steps {
		h.clock.Advance(st.advance)
		h.mgr.expireDue(ctx)
		var want []string
		for _, ttl := range st.want {
			want = append(want, byTTL[ttl])
		}
		if got := h.rev.revokedIDs(); !slices.Equal(got, want) {
			t.Fatalf("step %d: revoked %v, want %v", i, got, want)
		}
	}
	for _, id := range byTTL {
		if _, err := h.mgr.Lookup(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("lease %s still stored after expiry: %v", id, err)
		}
	}
}

func TestOneTimer(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Options{})
	if err := h.mgr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.mgr.Stop)
	start := h.clock.Now()
	steps := []struct {
		ttl     time.Duration
		timerAt time.Duration
	}{
		{time.Hour, time.Hour},
		{2 * time.Hour, time.Hour},
		{time.Minute, time.Minute},
		{30 * time.Minute, time.Minute},
	}
	for _, st := range steps {
		h.register(t, "db/", "creds/r", "", st.ttl)
		got := h.clock.active()
		if len(got) != 1 || !got[0].Equal(start.Add(st.timerAt)) {
			t.Fatalf("after ttl %v: active timers %v, want one at +%v", st.ttl, got, st.timerAt)
		}
	}
	h.clock.Advance(time.Minute)
	waitFor(t, "first revocation", func() bool { return len(h.rev.revokedIDs()) == 1 })
	waitFor(t, "timer re-armed for the next lease", func() bool {
		got := h.clock.active()
		return len(got) == 1 && got[0].Equal(start.Add(30*time.Minute))
	})
}

func TestRetryBackoffIrrevocable(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Options{RetryBase: time.Second, MaxAttempts: 4})
	h.rev.setFail(true)
	id := h.register(t, "db/", "creds/r", "", time.Second)
	h.clock.Advance(time.Second)
	delays := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
	for i, d := range delays {
		h.mgr.expireDue(ctx)
		l, err := h.mgr.Lookup(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if l.Attempts != i+1 || !l.DueTime.Equal(h.clock.Now().Add(d)) || l.Irrevocable {
			t.Fatalf("after attempt %d: attempts %d due %v irrevocable %v, want retry in %v",
				i+1, l.Attempts, l.DueTime.Sub(h.clock.Now()), l.Irrevocable, d)
		}
		h.mgr.expireDue(ctx) // not due yet: no new attempt
		if h.rev.callCount() != i+1 {
			t.Fatalf("retried before the backoff elapsed: %d calls", h.rev.callCount())
		}
		h.clock.Advance(d)
	}
	h.mgr.expireDue(ctx)
	irr, err := h.mgr.Irrevocable(ctx)
	if err != nil || len(irr) != 1 || irr[0].ID != id || irr[0].LastError != errEngineDown.Error() {
		t.Fatalf("Irrevocable() = %v, %v; want the lease", irr, err)
	}
	h.clock.Advance(24 * time.Hour)
	h.mgr.expireDue(ctx)
	if h.rev.callCount() != 4 {
		t.Fatalf("irrevocable lease retried: %d calls", h.rev.callCount())
	}
	if err := h.mgr.RevokePrefix(ctx, "db/", true); err != nil {
		t.Fatal(err)
	}
	if irr, _ := h.mgr.Irrevocable(ctx); len(irr) != 0 {
		t.Fatalf("forced revocation left %v", irr)
	}
}

func TestRetrySucceedsWhenEngineReturns(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Options{RetryBase: time.Second})
	id := h.register(t, "db/", "creds/r", "", time.Second)
	h.rev.setFail(true)
	h.clock.Advance(time.Second)
	h.mgr.expireDue(ctx)
	h.rev.setFail(false)
	h.clock.Advance(time.Second)
	h.mgr.expireDue(ctx)
	if got := h.rev.revokedIDs(); !slices.Equal(got, []string{id}) {
		t.Fatalf("revoked %v, want %s after the retry", got, id)
	}
}

func TestRevokeByToken(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Options{})
	a1 := h.register(t, "db/", "creds/r", "acc-a", time.Hour)
	a2 := h.register(t, "db/", "creds/w", "acc-a", time.Hour)
	b := h.register(t, "db/", "creds/r", "acc-b", time.Hour)
	tests := []struct {
		accessor string
		want     int
	}{{"acc-a", 2}, {"acc-none", 0}, {"", 0}}
	for _, tc := range tests {
		t.Run(tc.accessor, func(t *testing.T) {
			n, err := h.mgr.RevokeByToken(ctx, tc.accessor)
			if err != nil || n != tc.want {
				t.Fatalf("RevokeByToken(%q) = %d, %v; want %d", tc.accessor, n, err, tc.want)
			}
		})
	}
	h.mgr.expireDue(ctx)
	got := h.rev.revokedIDs()
	slices.Sort(got)
	want := []string{a1, a2}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("revoked %v, want %v", got, want)
	}
	if _, err := h.mgr.Lookup(ctx, b); err != nil {
		t.Fatalf("other token's lease gone: %v", err)
	}
}

func TestRevokePrefix(t *testing.T) {
	tests := []struct {
		name, prefix string
		force, fail  bool
		wantErr      bool
		wantLeft     int
	}{
		{"folder", "db/creds/a/", false, false, false, 2},
		{"no trailing slash", "db/creds/a", false, false, false, 2},
		{"mount", "db/", false, false, false, 1},
		{"engine down", "db/", false, true, true, 4},
		{"engine down forced", "db/", true, true, false, 1},
		{"nothing there", "none/", false, false, false, 4},
		{"bad prefix", "../x/", false, false, true, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			h := newHarness(t, Options{})
			h.register(t, "db/", "creds/a", "", time.Hour)
			h.register(t, "db/", "creds/a", "", time.Hour)
			h.register(t, "db/", "creds/b", "", time.Hour)
			h.register(t, "other/", "creds/a", "", time.Hour)
			h.rev.setFail(tc.fail)
			err := h.mgr.RevokePrefix(ctx, tc.prefix, tc.force)
			if (err != nil) != tc.wantErr {
				t.Fatalf("RevokePrefix err = %v, want error %v", err, tc.wantErr)
			}
			if left := countLeases(t, h.mgr, ""); left != tc.wantLeft {
				t.Fatalf("%d leases left, want %d", left, tc.wantLeft)
			}
		})
	}
}

func TestRevokeExactID(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, Options{})
	id := h.register(t, "db/", "creds/a", "", time.Hour)
	other := h.register(t, "db/", "creds/a", "", time.Hour)
	if err := h.mgr.RevokePrefix(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if got := h.rev.revokedIDs(); !slices.Equal(got, []string{id}) {
		t.Fatalf("revoked %v, want only %s", got, id)
	}
	if err := h.mgr.Revoke(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Revoke = %v, want ErrNotFound", err)
	}
	if _, err := h.mgr.Lookup(ctx, other); err != nil {
		t.Fatal(err)
	}
}

func countLeases(t testing.TB, m *Manager, prefix string) int {
	t.Helper()
	n := 0
	err := m.st.walk(context.Background(), leasePrefix+prefix, func(string) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}
