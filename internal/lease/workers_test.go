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
