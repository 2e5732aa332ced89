package lease

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// blockingRevoker holds every revocation until release is closed and
// records how many were in flight at once.
type blockingRevoker struct {
	release chan struct{}

	mu             sync.Mutex
	inflight, peak int
	done           int
}

func (r *blockingRevoker) RevokeLease(ctx context.Context, _ *Lease) error {
	r.mu.Lock()
	r.inflight++
	r.peak = max(r.peak, r.inflight)
	r.mu.Unlock()
	select {
	case <-r.release:
	case <-ctx.Done():
	}
	r.mu.Lock()
	r.inflight--
	r.done++
	r.mu.Unlock()
	return ctx.Err()
}

func (r *blockingRevoker) RenewLease(context.Context, *Lease, time.Duration) (time.Duration, error) {
	return 0, nil
}

func (r *blockingRevoker) state() (inflight, peak, done int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inflight, r.peak, r.done
}

// TestExpiryWorkersBoundConcurrency checks that a mass expiry runs at most
// Options.Workers revocations at once, and defaultWorkers when unset: that
// bound is what keeps a mass expiry from starving other requests.
func TestExpiryWorkersBoundConcurrency(t *testing.T) {
	tests := []struct {
		name    string
		workers int
		want    int
	}{
		{"default", 0, defaultWorkers},
		{"one", 1, 1},
		{"five", 5, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			rev := &blockingRevoker{release: make(chan struct{})}
			m := New(storage.NewView(inmem.New(), "sys/expire/"), rev,
				Options{Now: clock.Now, AfterFunc: clock.AfterFunc, Workers: tt.workers})
			ctx := context.Background()
			const leases = 20
			for i := range leases {
				if _, err := m.Register(ctx, &Lease{MountPoint: "database/", Path: "creds/r", TTL: time.Minute + time.Duration(i)*time.Millisecond}); err != nil {
					t.Fatal(err)
				}
			}
			if err := m.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer m.Stop()
			clock.Advance(2 * time.Minute)
			waitFor(t, "the workers to fill up", func() bool { n, _, _ := rev.state(); return n >= tt.want })
			time.Sleep(20 * time.Millisecond) // room for an unbounded loop to start more
			close(rev.release)
			waitFor(t, "every revocation", func() bool { _, _, d := rev.state(); return d == leases })
			if _, peak, _ := rev.state(); peak != tt.want {
				t.Fatalf("%d revocations ran at once, want %d", peak, tt.want)
			}
		})
	}
}

// TestExpiryIsPaced checks that every revocation of a mass expiry first
// waits for a slot of the revocation rate, and that the leases whose slot
// never comes stay due (they are revoked later, not dropped).
func TestExpiryIsPaced(t *testing.T) {
	clock := newClock()
	rev := &blockingRevoker{release: make(chan struct{})}
	close(rev.release)
	slots := make(chan struct{}, 100)
	opts := Options{Now: clock.Now, AfterFunc: clock.AfterFunc}
	opts.pace = func(ctx context.Context) error {
		select {
		case <-slots:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	view := storage.NewView(inmem.New(), "sys/expire/")
	m := New(view, rev, opts)
	ctx := context.Background()
	const leases, allowed = 10, 4
	for range leases {
		if _, err := m.Register(ctx, &Lease{MountPoint: "database/", Path: "creds/r", TTL: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	for range allowed {
		slots <- struct{}{}
	}
	waitFor(t, "the paced revocations", func() bool { _, _, d := rev.state(); return d == allowed })
	m.Stop()
	if _, _, d := rev.state(); d != allowed {
		t.Fatalf("%d revocations ran with %d slots", d, allowed)
	}
	left, err := m.List(ctx, "database/creds/r/")
	if err != nil || len(left) != leases-allowed {
		t.Fatalf("%d leases left after a paced, stopped expiry (want %d): %v", len(left), leases-allowed, err)
	}
}

// TestDefaultRevocationRate: unset means the default rate, negative means
// no pacing at all.
func TestDefaultRevocationRate(t *testing.T) {
	if got := (Options{}).withDefaults().RevocationRate; got != defaultRevocationRate {
		t.Fatalf("default rate %v", got)
	}
	o := Options{RevocationRate: -1}.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := o.pace(ctx); err != nil {
		t.Fatalf("an unpaced manager waited: %v", err)
	}
}
