package token

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestCacheNeverServesStaleEntries warms the cache with a lookup, changes
// the token through the Store, and checks the next lookup sees the change.
func TestCacheNeverServesStaleEntries(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		p      CreateParams
		change func(t *testing.T, ts *testStore, e *Entry)
		check  func(t *testing.T, got *Entry, err error, e *Entry)
	}{
		{"revoke", CreateParams{TTL: time.Hour},
			func(t *testing.T, ts *testStore, e *Entry) { must(t, ts.Revoke(ctx, e)) },
			wantInvalid},
		{"revoke parent revokes cached child", CreateParams{TTL: time.Hour},
			func(t *testing.T, ts *testStore, e *Entry) {
				parent, err := ts.lookupHash(ctx, e.Parent, false)
				must(t, err)
				must(t, ts.Revoke(ctx, parent))
			},
			wantInvalid},
		{"last use", CreateParams{TTL: time.Hour, NumUses: 1},
			func(t *testing.T, ts *testStore, e *Entry) {
				last, err := ts.Use(ctx, e)
				must(t, err)
				if !last {
					t.Fatal("Use of a 1-use token was not the last")
				}
			},
			wantInvalid},
		{"use decrements", CreateParams{TTL: time.Hour, NumUses: 3},
			func(t *testing.T, ts *testStore, e *Entry) { _, err := ts.Use(ctx, e); must(t, err) },
			func(t *testing.T, got *Entry, err error, _ *Entry) {
				if err != nil || got.NumUses != 2 {
					t.Fatalf("after one use: %+v, %v; want 2 uses left", got, err)
				}
			}},
		{"renew", CreateParams{TTL: time.Hour},
			func(t *testing.T, ts *testStore, e *Entry) {
				ts.clock.Advance(30 * time.Minute)
				_, err := ts.Renew(ctx, e, 2*time.Hour)
				must(t, err)
			},
			func(t *testing.T, got *Entry, err error, e *Entry) {
				if err != nil || !got.ExpireTime.After(e.ExpireTime) {
					t.Fatalf("after renew: %v, %v; want a later expiry than %v", got, err, e.ExpireTime)
				}
			}},
		{"expiry", CreateParams{TTL: time.Hour},
			func(t *testing.T, ts *testStore, _ *Entry) { ts.clock.Advance(time.Hour) },
			wantInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestStore(t)
			_, parent := mustCreate(t, ts.Store, CreateParams{TTL: 2 * time.Hour})
			tt.p.Parent = parent
			raw, e := mustCreate(t, ts.Store, tt.p)
			if _, err := ts.Lookup(ctx, raw); err != nil {
				t.Fatal(err)
			}
			if ts.cache.len() == 0 {
				t.Fatal("lookup did not fill the cache")
			}
			tt.change(t, ts, e)
			got, err := ts.Lookup(ctx, raw)
			tt.check(t, got, err, e)
		})
	}
}

func wantInvalid(t *testing.T, got *Entry, err error, _ *Entry) {
	t.Helper()
	if !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("lookup = %v, %v; want ErrInvalidToken", got, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCacheHitSkipsStorage checks a repeated lookup reads nothing, and that
// callers cannot change the cached entry through what they get back.
func TestCacheHitSkipsStorage(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	raw, _ := mustCreate(t, ts.Store, CreateParams{Policies: []string{"a"}})
	first, err := ts.Lookup(ctx, raw)
	must(t, err)
	first.Policies[0] = "mutated"
	first.NumUses = 99
	ts.mem.resetLog()
	second, err := ts.Lookup(ctx, raw)
	must(t, err)
	if gets, _ := ts.mem.log(); len(gets) != 0 {
		t.Errorf("cached lookup read storage: %v", gets)
	}
	if second.Policies[0] != "a" || second.NumUses != 0 {
		t.Errorf("cached entry changed through a returned copy: %+v", second)
	}
}

func TestCacheBounded(t *testing.T) {
	tests := []struct {
		size, tokens, want int
	}{
		{size: 3, tokens: 10, want: 3},
		{size: 100, tokens: 10, want: 10},
		{size: -1, tokens: 10, want: 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("size %d", tt.size), func(t *testing.T) {
			ts := newTestStore(t)
			ts.cache = newEntryCache(tt.size)
			ts.view = invalidatingView{Backend: ts.mem, cache: ts.cache}
			for range tt.tokens {
				raw, _ := mustCreate(t, ts.Store, CreateParams{})
				if _, err := ts.Lookup(context.Background(), raw); err != nil {
					t.Fatal(err)
				}
			}
			if n := ts.cache.len(); n != tt.want {
				t.Errorf("cache holds %d entries, want %d", n, tt.want)
			}
		})
	}
}

// TestCacheRejectsRacingInsert checks that an entry read before a write
// cannot be inserted after it.
func TestCacheRejectsRacingInsert(t *testing.T) {
	c := newEntryCache(10)
	_, gen := c.get("h")     // a lookup misses and reads storage...
	c.invalidate(idKey("h")) // ...while a revocation writes the entry
	c.add("h", &Entry{Hash: "h"}, gen)
	if got, _ := c.get("h"); got != nil {
		t.Fatal("a read that raced a write was cached")
	}
	c.invalidate(accessorKey("x")) // not an id/ key: no effect on gen
	_, gen = c.get("h")
	c.invalidate("accessor/other")
	c.add("h", &Entry{Hash: "h"}, gen)
	if got, _ := c.get("h"); got == nil {
		t.Fatal("a write of another kind of key blocked caching")
	}
}

// TestCacheRevokeUnderLoad revokes a token while lookups run: after Revoke
// returns, no lookup may succeed (run with -race).
func TestCacheRevokeUnderLoad(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	raw, e := mustCreate(t, ts.Store, CreateParams{TTL: time.Hour})
	var (
		wg      sync.WaitGroup
		revoked = make(chan struct{})
		stop    = make(chan struct{})
		bad     = make(chan error, 8)
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				done := isClosed(revoked)
				if _, err := ts.Lookup(ctx, raw); err == nil && done {
					bad <- errors.New("lookup succeeded after Revoke returned")
					return
				}
			}
		}()
	}
	time.Sleep(10 * time.Millisecond)
	must(t, ts.Revoke(ctx, e))
	close(revoked)
	time.Sleep(10 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(bad)
	for err := range bad {
		t.Error(err)
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestHasherPoolMatchesHMAC checks pooled, reused hash states give the
// same hashes as a fresh HMAC, also when used concurrently.
func TestHasherPoolMatchesHMAC(t *testing.T) {
	p := newHasherPool(testKey())
	raws := []string{"", "hvs.a", "hvs.0123456789abcdefghijklmn", "x"}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				for _, raw := range raws {
					if got, want := p.hash(raw), hashToken(testKey(), raw); got != want {
						t.Errorf("hash(%q) = %s, want %s", raw, got, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
