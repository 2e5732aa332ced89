package barrier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

// TestValueCacheFollowsWrites warms the cache, changes the key through the
// barrier, and checks the next Get sees the change.
func TestValueCacheFollowsWrites(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		change  func(t *testing.T, b *Barrier)
		want    string
		wantErr error
	}{
		{"put", func(t *testing.T, b *Barrier) { mustPut(t, b, "a/k", "v2") }, "v2", nil},
		{"delete", func(t *testing.T, b *Barrier) {
			if err := b.Delete(ctx, "a/k"); err != nil {
				t.Fatal(err)
			}
		}, "", storage.ErrNotFound},
		{"transaction put", func(t *testing.T, b *Barrier) {
			ops := []storage.TxnOp{{Kind: storage.OpPut, Entry: storage.Entry{Key: "a/k", Value: []byte("v3")}}}
			if err := b.Transaction(ctx, ops); err != nil {
				t.Fatal(err)
			}
		}, "v3", nil},
		{"transaction delete", func(t *testing.T, b *Barrier) {
			ops := []storage.TxnOp{{Kind: storage.OpDelete, Entry: storage.Entry{Key: "a/k"}}}
			if err := b.Transaction(ctx, ops); err != nil {
				t.Fatal(err)
			}
		}, "", storage.ErrNotFound},
		{"rotate keeps the value", func(t *testing.T, b *Barrier) {
			if _, err := b.Rotate(ctx); err != nil {
				t.Fatal(err)
			}
			if n, _ := b.values.stats(); n != 0 {
				t.Errorf("rotate left %d cached entries", n)
			}
		}, "v1", nil},
		{"seal", func(t *testing.T, b *Barrier) { b.Seal() }, "", ErrSealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _, _ := newUnsealed(t)
			mustPut(t, b, "a/k", "v1")
			if got := mustGet(t, b, "a/k"); got != "v1" {
				t.Fatalf("Get = %q", got)
			}
			if n, _ := b.values.stats(); n != 1 {
				t.Fatalf("cache holds %d entries after a Get, want 1", n)
			}
			tt.change(t, b)
			e, err := b.Get(ctx, "a/k")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Get error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && string(e.Value) != tt.want {
				t.Errorf("Get = %q, want %q", e.Value, tt.want)
			}
		})
	}
}

// TestValueCacheHitSkipsPhysical changes the physical entry underneath the
// barrier: a cached Get does not see it until ClearCache.
func TestValueCacheHitSkipsPhysical(t *testing.T) {
	ctx := context.Background()
	b, mem, _ := newUnsealed(t)
	mustPut(t, b, "k", "v1")
	_ = mustGet(t, b, "k")
	if err := mem.Delete(ctx, physKey(t, b, "k")); err != nil {
		t.Fatal(err)
	}
	e, err := b.Get(ctx, "k")
	if err != nil || string(e.Value) != "v1" {
		t.Fatalf("cached Get = %v, %v; want v1 without a physical read", e, err)
	}
	e.Value[0] = 'X' // callers own what they get
	if got := mustGet(t, b, "k"); got != "v1" {
		t.Errorf("cache changed through a returned value: %q", got)
	}
	b.ClearCache()
	if _, err := b.Get(ctx, "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get after ClearCache = %v, want ErrNotFound", err)
	}
}

func TestValueCacheBounds(t *testing.T) {
	tests := []struct {
		name      string
		entries   int
		valueLen  int
		keys      int
		wantCount int
	}{
		{"entry limit", 4, 10, 10, 4},
		{"large values are not cached", 100, maxCachedValueLen + 1, 3, 0},
		{"disabled", -1, 10, 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(newMem(), Options{Now: fixedNow, CacheEntries: tt.entries})
			root := mustKey(t)
			ctx := context.Background()
			if err := b.Initialize(ctx, root); err != nil {
				t.Fatal(err)
			}
			if err := b.Unseal(ctx, root); err != nil {
				t.Fatal(err)
			}
			value := string(bytes.Repeat([]byte("x"), tt.valueLen))
			for i := range tt.keys {
				k := "k" + strconv.Itoa(i)
				mustPut(t, b, k, value)
				if got := mustGet(t, b, k); got != value {
					t.Fatalf("Get(%s) returned %d bytes", k, len(got))
				}
			}
			n, size := b.values.stats()
			if n != tt.wantCount || size != n*tt.valueLen {
				t.Errorf("cache holds %d entries, %d bytes; want %d entries of %d bytes", n, size, tt.wantCount, tt.valueLen)
			}
		})
	}
}

// TestValueCacheRejectsRacingInsert checks that a value read before a
// write (or a seal) cannot be inserted after it.
func TestValueCacheRejectsRacingInsert(t *testing.T) {
	tests := []struct {
		name  string
		write func(c *valueCache)
	}{
		{"write of the key", func(c *valueCache) { c.begin("k"); c.end("k") }},
		{"write in progress", func(c *valueCache) { c.begin("k") }},
		{"reset", func(c *valueCache) { c.reset() }},
		{"invalidate", func(c *valueCache) { c.invalidate("k") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newValueCache(10)
			_, _, gen := c.get("k")
			tt.write(c)
			c.add("k", []byte("old"), gen)
			if _, hit, _ := c.get("k"); hit {
				t.Fatal("a read that raced a write was cached")
			}
		})
	}
}

// TestValueCacheConcurrentWrites has readers hammer a key while a writer
// updates it: after each Put returns, the writer's own Get must see it
// (run with -race).
func TestValueCacheConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	b, _, _ := newUnsealed(t)
	mustPut(t, b, "hot", "0")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					if _, err := b.Get(ctx, "hot"); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for i := 1; i <= 300; i++ {
		want := fmt.Sprint(i)
		mustPut(t, b, "hot", want)
		if got := mustGet(t, b, "hot"); got != want {
			t.Errorf("after Put(%s), Get = %s", want, got)
			break
		}
	}
	close(stop)
	wg.Wait()
}
