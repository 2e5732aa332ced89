package token

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/storagetest"
)

// TestInvalidateStandby changes tokens through store A (the active node)
// and looks them up through store B over the same storage (a standby, its
// cache warm): B serves the stale entry until it invalidates the keys A
// wrote, then sees the change. A revoked token must stop working on B.
func TestInvalidateStandby(t *testing.T) {
	ctx := context.Background()
	renewable := true
	tests := []struct {
		name string
		// change acts through A on the token (parent is its parent) and
		// returns the keys to hand to B.Invalidate; nil means those A wrote.
		change  func(t *testing.T, a *Store, parent, tok *Entry) []string
		wantErr error
		check   func(t *testing.T, before, after *Entry)
	}{
		{name: "revoke", change: func(t *testing.T, a *Store, _, tok *Entry) []string {
			mustNil(t, a.Revoke(ctx, tok))
			return nil
		}, wantErr: ErrInvalidToken},
		{name: "revoke parent", change: func(t *testing.T, a *Store, parent, _ *Entry) []string {
			mustNil(t, a.Revoke(ctx, parent))
			return nil
		}, wantErr: ErrInvalidToken},
		{name: "last use", change: func(t *testing.T, a *Store, _, tok *Entry) []string {
			last, err := a.Use(ctx, tok)
			mustNil(t, err)
			if !last {
				t.Fatal("Use of a one-use token was not its last")
			}
			return nil
		}, wantErr: ErrInvalidToken},
		{name: "renew", change: func(t *testing.T, a *Store, _, tok *Entry) []string {
			_, err := a.Renew(ctx, tok, 2*time.Hour)
			mustNil(t, err)
			return nil
		}, check: func(t *testing.T, before, after *Entry) {
			if !after.ExpireTime.After(before.ExpireTime) {
				t.Errorf("expire time %v after renew, was %v", after.ExpireTime, before.ExpireTime)
			}
		}},
		{name: "unknown key drops the whole cache", change: func(t *testing.T, a *Store, _, tok *Entry) []string {
			mustNil(t, a.Revoke(ctx, tok))
			return []string{"unknown/key"}
		}, wantErr: ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			log := &storagetest.WriteLog{Backend: newMemBackend()}
			opts := Options{Now: clock.Now, BatchKey: randomKey(t)}
			a := NewStore(log, testKey(), opts)
			b := NewStore(log.Backend, testKey(), opts)
			_, parent := mustCreate(t, a, CreateParams{Policies: []string{"p"}, TTL: time.Hour, Renewable: &renewable})
			raw, _ := mustCreate(t, a, CreateParams{Parent: parent, TTL: time.Hour, NumUses: 1, Renewable: &renewable})
			before, err := b.Lookup(ctx, raw) // warms B's cache
			mustNil(t, err)
			tokEntry, err := a.Lookup(ctx, raw)
			mustNil(t, err)
			log.Take()

			keys := tt.change(t, a, parent, tokEntry)
			written := log.Take()
			if keys == nil {
				keys = written
			}
			if _, err := b.Lookup(ctx, raw); err != nil {
				t.Fatalf("B.Lookup before Invalidate = %v; want the stale cached entry", err)
			}
			for _, k := range keys {
				b.Invalidate(k)
			}
			after, err := b.Lookup(ctx, raw)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("B.Lookup after Invalidate = %v, want %v", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, before, after)
			}
		})
	}
}

// TestInvalidateBatchParent revokes the parent of a batch token through A:
// B, which checked the parent before (cache warm), refuses the batch token
// once it invalidated the keys A wrote.
func TestInvalidateBatchParent(t *testing.T) {
	ctx := context.Background()
	log := &storagetest.WriteLog{Backend: newMemBackend()}
	opts := Options{BatchKey: randomKey(t)}
	a := NewStore(log, testKey(), opts)
	b := NewStore(log.Backend, testKey(), opts)
	_, parent := mustCreate(t, a, CreateParams{Policies: []string{"p"}, TTL: time.Hour})
	raw, _ := mustCreate(t, a, CreateParams{Type: TypeBatch, Parent: parent, TTL: time.Minute})
	_, err := b.Lookup(ctx, raw)
	mustNil(t, err)
	log.Take()
	mustNil(t, a.Revoke(ctx, parent))
	if _, err := b.Lookup(ctx, raw); err != nil {
		t.Fatalf("B.Lookup before Invalidate = %v; want the stale parent from the cache", err)
	}
	for _, k := range log.Take() {
		b.Invalidate(k)
	}
	if _, err := b.Lookup(ctx, raw); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("B.Lookup of a batch token whose parent was revoked = %v, want ErrInvalidToken", err)
	}
}

// TestInvalidateKeepsUnrelated checks that index keys and other tokens'
// keys leave the rest of the cache alone, and that an unknown key empties
// it.
func TestInvalidateKeepsUnrelated(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		key  string
		want int
	}{
		{"accessor/abc", 2},
		{"parent/abc/def", 2},
		{"expiry/00000000000000000001/abc", 2},
		{"id/not-cached", 2},
		{"salt", 0},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			ts := newTestStore(t)
			for range 2 {
				raw, _ := mustCreate(t, ts.Store, CreateParams{Policies: []string{"p"}})
				_, err := ts.Lookup(ctx, raw)
				mustNil(t, err)
			}
			ts.Invalidate(tt.key)
			if got := ts.cache.len(); got != tt.want {
				t.Errorf("after Invalidate(%q) the cache holds %d entries, want %d", tt.key, got, tt.want)
			}
		})
	}
}

// TestInvalidateRejectsRacingInsert checks that a lookup which read storage
// before an Invalidate cannot cache what it read.
func TestInvalidateRejectsRacingInsert(t *testing.T) {
	for _, key := range []string{"id/h", "other"} {
		t.Run(key, func(t *testing.T) {
			s := NewStore(newMemBackend(), testKey(), Options{})
			_, gen := s.cache.get("h")
			s.Invalidate(key)
			s.cache.add("h", &Entry{Hash: "h"}, gen)
			if e, _ := s.cache.get("h"); e != nil {
				t.Fatal("an entry read before Invalidate was cached")
			}
		})
	}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// readOnly is a standby's view of storage: every write fails.
type readOnly struct{ storage.Backend }

func (readOnly) Put(context.Context, *storage.Entry) error          { return storage.ErrReadOnly }
func (readOnly) Delete(context.Context, string) error               { return storage.ErrReadOnly }
func (readOnly) Transaction(context.Context, []storage.TxnOp) error { return storage.ErrReadOnly }

// TestStandbyLookupHasNoOutsideEffects looks up expired tokens on a store
// whose writes fail, as on a standby: the lookups fail and OnRevoke (which
// revokes leases, outside storage) never runs.
func TestStandbyLookupHasNoOutsideEffects(t *testing.T) {
	ctx := context.Background()
	for _, markedFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("already marked %v", markedFirst), func(t *testing.T) {
			clock := newFakeClock()
			mem := newMemBackend()
			active := NewStore(mem, testKey(), Options{Now: clock.Now,
				OnRevoke: func(context.Context, *Entry) error { return errors.New("leases unavailable") }})
			raw, e := mustCreate(t, active, CreateParams{Policies: []string{"p"}, TTL: time.Minute})
			if markedFirst {
				if err := active.Revoke(ctx, e); err == nil {
					t.Fatal("Revoke succeeded though OnRevoke fails")
				}
			}
			called := false
			standby := NewStore(readOnly{mem}, testKey(), Options{Now: clock.Now,
				OnRevoke: func(context.Context, *Entry) error { called = true; return nil }})
			clock.Advance(time.Hour)
			for _, allowRevoked := range []bool{false, true} {
				if _, err := standby.lookupRaw(ctx, raw, allowRevoked); !errors.Is(err, ErrInvalidToken) {
					t.Errorf("lookup (allowRevoked %v) of an expired token = %v, want ErrInvalidToken", allowRevoked, err)
				}
			}
			if called {
				t.Error("a lookup on a standby ran OnRevoke")
			}
		})
	}
}
