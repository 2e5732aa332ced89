package lease

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/barrier"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// BenchmarkExpireSameSecondBarrier is BenchmarkExpireSameSecond through the
// barrier (encrypted values and key names), as the server runs it, for
// several batch sizes: every batch lists the one index folder holding all
// the leases due in that second.
func BenchmarkExpireSameSecondBarrier(b *testing.B) {
	const n = 10_000
	for _, batch := range []int{256, 4096} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				clock := newClock()
				br := barrier.New(inmem.New(), barrier.Options{})
				key := make([]byte, 32)
				if err := br.Initialize(context.Background(), key); err != nil {
					b.Fatal(err)
				}
				if err := br.Unseal(context.Background(), key); err != nil {
					b.Fatal(err)
				}
				rev := &fakeRevoker{}
				m := New(storage.NewView(br, "sys/expire/"), rev, Options{Now: clock.Now, AfterFunc: clock.AfterFunc, BatchSize: batch})
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
		})
	}
}
