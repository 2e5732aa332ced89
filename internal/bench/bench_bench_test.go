package bench_test

import (
	"context"
	"testing"

	"github.com/cofferdev/coffer/internal/bench"
)

// BenchmarkKVRead drives kv-read through the bench client against an
// in-process server (the real API handler over httptest, with TLS or not)
// and against the ceiling serving the same bytes; the ratio of the two
// ns/op is the ceiling ratio at GOMAXPROCS parallelism.
func BenchmarkKVRead(b *testing.B) {
	for _, useTLS := range []bool{false, true} {
		scheme := map[bool]string{false: "http", true: "tls"}[useTLS]
		b.Run("coffer/"+scheme, func(b *testing.B) {
			srv, api := startCounted(b, useTLS, 0)
			tg := srv.target(b, srv.RootToken, 64)
			w, err := bench.NewWorkload("kv-read", bench.DefaultParams())
			if err != nil {
				b.Fatal(err)
			}
			if err := w.Setup(context.Background(), api); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = w.Cleanup(context.Background(), api) })
			drive(b, tg, w)
		})
		b.Run("ceiling/"+scheme, func(b *testing.B) {
			srv, api := startCounted(b, useTLS, 0)
			c, w, err := bench.StartCeilingFor(context.Background(), api, srv.target(b, srv.RootToken, 1), bench.DefaultParams())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = c.Close() })
			tg := c.Target(64)
			b.Cleanup(tg.Close)
			drive(b, tg, w)
		})
	}
}

func drive(b *testing.B, tg *bench.Target, w bench.Workload) {
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := tg.Do(ctx, w.Next(nil, 0)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
