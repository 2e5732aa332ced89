package barrier

import (
	"context"
	"fmt"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

// BenchmarkEncrypt measures Put through the barrier over the map backend.
func BenchmarkEncrypt(b *testing.B) {
	for _, size := range []int{64, 4 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			bar, _, _ := newUnsealed(b)
			entry := &storage.Entry{Key: "bench/key", Value: make([]byte, size)}
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				if err := bar.Put(ctx, entry); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecrypt measures Get through the barrier over the map backend.
func BenchmarkDecrypt(b *testing.B) {
	for _, size := range []int{64, 4 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			bar, _, _ := newUnsealed(b)
			ctx := context.Background()
			if err := bar.Put(ctx, &storage.Entry{Key: "bench/key", Value: make([]byte, size)}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := bar.Get(ctx, "bench/key"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetDeepPath measures Get of a six-segment key, the shape of a KV
// v2 read (mount, namespace, folders, version), over the map backend.
func BenchmarkGetDeepPath(b *testing.B) {
	bar, _, _ := newUnsealed(b)
	ctx := context.Background()
	const key = "logical/0b5c2a36-8d4e-4f0a-9c1e-2f3a4b5c6d7e/versions/app/db/1"
	if err := bar.Put(ctx, &storage.Entry{Key: key, Value: make([]byte, 64)}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bar.Get(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}
