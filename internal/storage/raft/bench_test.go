package raft

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

// BenchmarkWrites measures replicated writes (raft-wal with fsync on every
// append) at several concurrencies, on one node and on three, and reports
// how many writes shared each log append (fsync).
func BenchmarkWrites(b *testing.B) {
	for _, nodes := range []int{1, 3} {
		for _, conc := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("nodes=%d/c=%d", nodes, conc), func(b *testing.B) {
				_, cluster := testCluster(b, nodes)
				leader := waitLeader(b, cluster)
				if nodes > 1 {
					syncFollowers(b, leader, cluster)
				}
				value := make([]byte, 256)
				before := leader.Stats()
				var next atomic.Int64
				b.ResetTimer()
				var wg sync.WaitGroup
				for w := 0; w < conc; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := next.Add(1)
							if i > int64(b.N) {
								return
							}
							if err := leader.Put(context.Background(), &storage.Entry{Key: fmt.Sprintf("bench/%d", i), Value: value}); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				after := leader.Stats()
				if appends := after.Appends - before.Appends; appends > 0 {
					b.ReportMetric(float64(after.Entries-before.Entries)/float64(appends), "writes/fsync")
				}
			})
		}
	}
}

// BenchmarkConsistentRead measures a linearizable read of one key at 16
// concurrent readers, on the leader and on a follower of three nodes (the
// follower asks the leader for its read index; concurrent readers share
// the round), and reports how many reads shared each round.
func BenchmarkConsistentRead(b *testing.B) {
	for _, on := range []string{"leader", "follower"} {
		b.Run(on, func(b *testing.B) {
			_, cluster := testCluster(b, 3)
			leader := waitLeader(b, cluster)
			ctx := context.Background()
			if err := leader.Put(ctx, &storage.Entry{Key: "bench/k", Value: make([]byte, 256)}); err != nil {
				b.Fatal(err)
			}
			syncFollowers(b, leader, cluster)
			node := leader
			for _, nd := range cluster {
				if on == "follower" && nd != leader {
					node = nd
					break
				}
			}
			served := leader.readIndexServed.Load()
			b.SetParallelism(8) // 16 readers on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := node.ConsistentRead(ctx); err != nil {
						b.Error(err)
						return
					}
					if _, err := node.Get(ctx, "bench/k"); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			if rounds := leader.readIndexServed.Load() - served; on == "follower" && rounds > 0 {
				b.ReportMetric(float64(b.N)/float64(rounds), "reads/round")
			}
		})
	}
}
