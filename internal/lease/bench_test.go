package lease

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/barrier"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// fill writes n leases with expiries spread over 30 days straight into
// storage, 1000 per transaction.
func fill(b *testing.B, st storage.Backend, n int, now time.Time) {
	b.Helper()
	ctx := context.Background()
	var ops []storage.TxnOp
	for i := range n {
		exp := now.Add(time.Minute + time.Duration(i)*(30*24*time.Hour/time.Duration(max(n, 1))))
		l := &Lease{ID: fmt.Sprintf("database/creds/ro/%026d", i), MountPoint: "database/", Path: "creds/ro",
			TokenAccessor: fmt.Sprintf("acc%d", i%1000), TTL: exp.Sub(now), Renewable: true,
			InternalData: map[string]any{"username": fmt.Sprintf("v-token-ro-%d", i)},
			IssueTime:    now, ExpireTime: exp, DueTime: exp}
		lops, err := indexOps(l)
		if err != nil {
			b.Fatal(err)
		}
		ops = append(ops, lops...)
		if len(ops) >= 3000 || i == n-1 {
			if err := st.Transaction(ctx, ops); err != nil {
				b.Fatal(err)
			}
			ops = ops[:0]
		}
	}
}

// BenchmarkStart measures Start (what unseal pays) over 0, 100k and 1M
// stored leases, on inmem and through the barrier (encrypted values and key
// names). heap-B is the live heap growth Start leaves behind.
func BenchmarkStart(b *testing.B) {
	for _, layer := range []string{"inmem", "barrier"} {
		for _, n := range []int{0, 100_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/leases=%d", layer, n), func(b *testing.B) {
				benchStart(b, layer, n)
			})
		}
	}
}

func benchStart(b *testing.B, layer string, n int) {
	now := time.Now()
	var st storage.Backend = inmem.New()
	if layer == "barrier" {
		br := barrier.New(st, barrier.Options{})
		key := make([]byte, 32)
		if err := br.Initialize(context.Background(), key); err != nil {
			b.Fatal(err)
		}
		if err := br.Unseal(context.Background(), key); err != nil {
			b.Fatal(err)
		}
		st = storage.NewView(br, "sys/expire/")
	}
	fill(b, st, n, now)
	rev := &fakeRevoker{}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m := New(st, rev, Options{})
		if err := m.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		m.Stop()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)), "heap-B")
	if rev.callCount() != 0 {
		b.Fatalf("Start revoked %d leases that were not due", rev.callCount())
	}
}

// BenchmarkExpireSameSecond measures revoking 10k leases that all expire in
// the same second (fake revoker, inmem storage, 8 workers).
func BenchmarkExpireSameSecond(b *testing.B) {
	const n = 10_000
	for range b.N {
		b.StopTimer()
		clock := newClock()
		st := inmem.New()
		rev := &fakeRevoker{}
		m := New(st, rev, Options{Now: clock.Now, AfterFunc: clock.AfterFunc})
		for i := range n {
			_, err := m.Register(context.Background(), &Lease{MountPoint: "database/", Path: "creds/ro",
				TTL: time.Second + time.Duration(i)*time.Microsecond, Renewable: true})
			if err != nil {
				b.Fatal(err)
			}
		}
		clock.Advance(2 * time.Second)
		b.StartTimer()
		m.expireDue(context.Background())
		b.StopTimer()
		if rev.callCount() != n {
			b.Fatalf("revoked %d of %d", rev.callCount(), n)
		}
	}
	b.ReportMetric(n, "leases/op")
}

// BenchmarkReadDuringExpiry runs lease lookups (a read load on the same
// storage) while 10k leases due in the same second are revoked, and reports
// the lookups' p99 latency idle and during the expiry.
func BenchmarkReadDuringExpiry(b *testing.B) {
	const n = 10_000
	var idle, busy []time.Duration
	for range b.N {
		clock := newClock()
		m := New(inmem.New(), &fakeRevoker{}, Options{Now: clock.Now, AfterFunc: clock.AfterFunc})
		ctx := context.Background()
		keep, err := m.Register(ctx, &Lease{MountPoint: "kv/", Path: "x", TTL: 24 * time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			if _, err := m.Register(ctx, &Lease{MountPoint: "database/", Path: "creds/ro",
				TTL: time.Second + time.Duration(i)*time.Microsecond}); err != nil {
				b.Fatal(err)
			}
		}
		idle = append(idle, readLoad(b, m, keep, 2000, nil)...)
		clock.Advance(2 * time.Second)
		done := make(chan struct{})
		go func() { m.expireDue(ctx); close(done) }()
		busy = append(busy, readLoad(b, m, keep, 0, done)...)
	}
	b.ReportMetric(float64(p99(idle)), "p99-idle-ns")
	b.ReportMetric(float64(p99(busy)), "p99-expiring-ns")
}

// readLoad times Lookups: count of them, or until done closes.
func readLoad(b *testing.B, m *Manager, id string, count int, done <-chan struct{}) []time.Duration {
	var out []time.Duration
	for i := 0; count == 0 || i < count; i++ {
		if done != nil {
			select {
			case <-done:
				return out
			default:
			}
		}
		t0 := time.Now()
		if _, err := m.Lookup(context.Background(), id); err != nil {
			b.Fatal(err)
		}
		out = append(out, time.Since(t0))
	}
	return out
}

func p99(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)*99/100]
}
