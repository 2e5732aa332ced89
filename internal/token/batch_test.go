package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// countingBackend counts the writes that reach the wrapped backend.
type countingBackend struct {
	storage.Backend
	writes atomic.Int64
}

func (c *countingBackend) Put(ctx context.Context, e *storage.Entry) error {
	c.writes.Add(1)
	return c.Backend.Put(ctx, e)
}

func (c *countingBackend) Delete(ctx context.Context, key string) error {
	c.writes.Add(1)
	return c.Backend.Delete(ctx, key)
}

func (c *countingBackend) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	c.writes.Add(int64(len(ops)))
	return c.Backend.Transaction(ctx, ops)
}

func TestBatchCreateWritesNothing(t *testing.T) {
	ctx := context.Background()
	cb := &countingBackend{Backend: newMemBackend()}
	clock := newFakeClock()
	s := NewStore(cb, testKey(), Options{Now: clock.Now, BatchKey: randomKey(t)})
	_, parent := mustCreate(t, s, CreateParams{Policies: []string{"dev"}})
	before := cb.writes.Load()
	if before == 0 {
		t.Fatal("creating a service token wrote nothing: the counter does not count")
	}
	for _, p := range []CreateParams{
		{Type: TypeBatch, Policies: []string{"dev"}},
		{Type: TypeBatch, Parent: parent, Policies: []string{"dev"}, TTL: time.Minute},
		{Type: TypeBatch, Parent: parent, Orphan: true},
	} {
		raw, e, err := s.Create(ctx, p)
		if err != nil {
			t.Fatalf("Create batch: %v", err)
		}
		if _, err := s.Lookup(ctx, raw); err != nil {
			t.Fatalf("Lookup batch: %v", err)
		}
		if _, err := s.Use(ctx, e); err != nil {
			t.Fatalf("Use batch: %v", err)
		}
	}
	if got := cb.writes.Load(); got != before {
		t.Fatalf("batch create, lookup and use wrote %d storage keys, want 0", got-before)
	}
}

func TestBatchEntry(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	parentRaw, parent := mustCreate(t, ts.Store, CreateParams{Policies: []string{"dev", "ops"}, EntityID: "ent-1",
		BoundCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	raw, created, err := ts.Create(ctx, CreateParams{Type: TypeBatch, Parent: parent, Policies: []string{"ops"},
		Meta: map[string]string{"k": "v"}, DisplayName: "token-ci", TTL: time.Hour, Renewable: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, BatchPrefix) || strings.Contains(raw, parentRaw) {
		t.Fatalf("raw batch token has the wrong shape")
	}
	e, err := ts.Lookup(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	want := &Entry{
		Parent: parent.Hash, Policies: []string{"default", "ops"}, Meta: map[string]string{"k": "v"},
		DisplayName: "token-ci", CreationTime: ts.clock.Now(), TTL: time.Hour, ExpireTime: ts.clock.Now().Add(time.Hour),
		BoundCIDRs: parent.BoundCIDRs, Path: DefaultCreatePath, EntityID: "ent-1", Type: TypeBatch,
	}
	for name, got := range map[string]*Entry{"created": created, "looked up": e} {
		if got.String() != want.String() || got.Hash != "" || got.Accessor != "" || got.CubbyholeID != "" ||
			got.Renewable || got.NumUses != 0 || got.Parent != want.Parent || got.EntityID != want.EntityID ||
			!got.ExpireTime.Equal(want.ExpireTime) || !slices.Equal(got.BoundCIDRs, want.BoundCIDRs) ||
			got.Meta["k"] != "v" || got.Type != TypeBatch || got.Orphan {
			t.Errorf("%s entry = %+v, want %+v", name, got, want)
		}
	}
}

func TestBatchLifetime(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// act runs after the batch token was made under parent.
		act func(t *testing.T, ts *testStore, parent *Entry)
	}{
		{"expired", func(_ *testing.T, ts *testStore, _ *Entry) { ts.clock.Advance(time.Hour) }},
		{"parent revoked", func(t *testing.T, ts *testStore, parent *Entry) {
			if err := ts.Revoke(ctx, parent); err != nil {
				t.Fatal(err)
			}
		}},
		{"parent expired", func(_ *testing.T, ts *testStore, _ *Entry) { ts.clock.Advance(10 * time.Minute) }},
		{"grandparent revoked", func(t *testing.T, ts *testStore, parent *Entry) {
			gp, err := ts.loadStored(ctx, parent.Parent)
			if err != nil {
				t.Fatal(err)
			}
			if err := ts.Revoke(ctx, gp); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestStore(t)
			_, gp := mustCreate(t, ts.Store, CreateParams{Policies: []string{"a"}})
			_, parent := mustCreate(t, ts.Store, CreateParams{Parent: gp, TTL: 10 * time.Minute})
			raw, _ := mustCreate(t, ts.Store, CreateParams{Type: TypeBatch, Parent: parent, TTL: 20 * time.Minute})
			orphanRaw, _ := mustCreate(t, ts.Store, CreateParams{Type: TypeBatch, Parent: parent, Orphan: true, TTL: 30 * time.Minute})
			if _, err := ts.Lookup(ctx, raw); err != nil {
				t.Fatalf("fresh batch token: %v", err)
			}
			tt.act(t, ts, parent)
			if _, err := ts.Lookup(ctx, raw); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Lookup after %s = %v, want ErrInvalidToken", tt.name, err)
			}
			_, err := ts.Lookup(ctx, orphanRaw)
			if wantLive := tt.name != "expired"; (err == nil) != wantLive {
				t.Fatalf("orphan batch token after %s: err = %v, want live=%v", tt.name, err, wantLive)
			}
		})
	}
}

func TestBatchTampered(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	raw, _ := mustCreate(t, ts.Store, CreateParams{Type: TypeBatch, Policies: []string{"a"}})
	other := NewStore(newMemBackend(), testKey(), Options{Now: ts.clock.Now, BatchKey: randomKey(t)})
	if _, err := other.Lookup(ctx, raw); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("token accepted under another key: %v", err)
	}
	noKey := NewStore(newMemBackend(), testKey(), Options{Now: ts.clock.Now})
	if _, err := noKey.Lookup(ctx, raw); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("token accepted by a store without a batch key: %v", err)
	}
	var cases []string
	for i := len(BatchPrefix); i < len(raw); i++ {
		b := []byte(raw)
		b[i] = flipBase64(b[i])
		cases = append(cases, string(b))
	}
	for _, n := range []int{len(raw) - 1, len(raw) - 16, len(BatchPrefix) + 12, len(BatchPrefix)} {
		cases = append(cases, raw[:n])
	}
	cases = append(cases, raw+"A", raw[:20]+"\n"+raw[20:], "hvs."+raw[4:], raw+"=")
	for i, c := range cases {
		if _, err := ts.Lookup(ctx, c); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("case %d: tampered token accepted: %v", i, err)
		}
	}
}

// flipBase64 returns another base64url character.
func flipBase64(c byte) byte {
	if c == 'A' {
		return 'B'
	}
	return 'A'
}

func TestBatchCreateRules(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	_, parent := mustCreate(t, ts.Store, CreateParams{Policies: []string{"a"}})
	_, limited := mustCreate(t, ts.Store, CreateParams{NumUses: 2})
	batchRaw, _ := mustCreate(t, ts.Store, CreateParams{Type: TypeBatch})
	batch, err := ts.Lookup(ctx, batchRaw)
	if err != nil {
		t.Fatal(err)
	}
	_, dead := mustCreate(t, ts.Store, CreateParams{})
	if err := ts.Revoke(ctx, dead); err != nil {
		t.Fatal(err)
	}
	noKey := NewStore(newMemBackend(), testKey(), Options{})
	tests := []struct {
		name string
		s    *Store
		p    CreateParams
		want error
	}{
		{"use limit", ts.Store, CreateParams{Type: TypeBatch, NumUses: 1}, ErrInvalidParams},
		{"periodic", ts.Store, CreateParams{Type: TypeBatch, Period: time.Hour}, ErrInvalidParams},
		{"root", ts.Store, CreateParams{Type: TypeBatch, Policies: []string{" Root "}}, ErrInvalidParams},
		{"no expiry", ts.Store, CreateParams{Type: TypeBatch, NoExpiry: true}, ErrInvalidParams},
		{"custom id", ts.Store, CreateParams{Type: TypeBatch, ID: "abc"}, ErrInvalidParams},
		{"unknown type", ts.Store, CreateParams{Type: "weird"}, ErrInvalidParams},
		{"too large", ts.Store, CreateParams{Type: TypeBatch, Meta: map[string]string{"k": strings.Repeat("x", maxBatchLen)}}, ErrInvalidParams},
		{"batch parent of batch", ts.Store, CreateParams{Type: TypeBatch, Parent: batch}, ErrBatchToken},
		{"batch parent of service", ts.Store, CreateParams{Parent: batch}, ErrBatchToken},
		{"batch parent of orphan", ts.Store, CreateParams{Parent: batch, Orphan: true}, ErrBatchToken},
		{"restricted parent", ts.Store, CreateParams{Type: TypeBatch, Parent: limited}, ErrRestrictedParent},
		{"revoked parent", ts.Store, CreateParams{Type: TypeBatch, Parent: dead}, ErrParentInvalid},
		{"no batch key", noKey, CreateParams{Type: TypeBatch}, ErrBatchUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := tt.s.Create(ctx, tt.p); !errors.Is(err, tt.want) {
				t.Fatalf("Create error = %v, want %v", err, tt.want)
			}
		})
	}
	if _, _, err := ts.Create(ctx, CreateParams{Type: TypeBatch, Parent: parent}); err != nil {
		t.Fatalf("valid batch child refused: %v", err)
	}
}

func TestBatchStoreOperations(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	raw, _ := mustCreate(t, ts.Store, CreateParams{Type: TypeBatch})
	e, err := ts.Lookup(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]func() error{
		"renew":         func() error { _, err := ts.Renew(ctx, e, 0); return err },
		"revoke":        func() error { return ts.Revoke(ctx, e) },
		"revoke orphan": func() error { return ts.RevokeOrphan(ctx, e) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			if err := op(); !errors.Is(err, ErrBatchToken) {
				t.Fatalf("error = %v, want ErrBatchToken", err)
			}
			if _, err := ts.Lookup(ctx, raw); err != nil {
				t.Fatalf("token stopped working: %v", err)
			}
		})
	}
	if last, err := ts.Use(ctx, e); last || err != nil {
		t.Fatalf("Use = %v, %v; want false, nil", last, err)
	}
	if len(ts.revokedAccessors()) != 0 {
		t.Fatalf("OnRevoke called for a batch token")
	}
}

func TestBatchAPI(t *testing.T) {
	a := newAPI(t)
	ctx := context.Background()
	devRaw, dev := mustCreate(t, a.Store, CreateParams{Parent: a.root, Policies: []string{"dev"}})
	resp, err := a.call(logical.UpdateOperation, "create", devRaw, dev, false,
		map[string]any{"type": "batch", "ttl": "10m", "renewable": true})
	if err != nil {
		t.Fatal(err)
	}
	auth := resp.Auth
	if !strings.HasPrefix(auth.ClientToken, BatchPrefix) || auth.Accessor != "" || auth.Renewable ||
		auth.TokenType != TypeBatch || auth.Orphan || auth.TTL != 10*time.Minute {
		t.Fatalf("auth = %+v", authJSON(auth))
	}
	braw := auth.ClientToken
	be, err := a.Lookup(ctx, braw)
	if err != nil {
		t.Fatal(err)
	}
	look, err := a.call(logical.ReadOperation, "lookup-self", braw, be, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if look.Data["type"] != TypeBatch || look.Data["id"] != braw || look.Data["accessor"] != "" ||
		look.Data["renewable"] != false || look.Data["orphan"] != false {
		t.Fatalf("lookup-self = %v", look.Data)
	}
	tests := []struct {
		name, path, raw string
		e               *Entry
		data            map[string]any
		want            string
	}{
		{"renew-self", "renew-self", braw, be, nil, "batch tokens cannot be renewed"},
		{"renew", "renew", devRaw, dev, map[string]any{"token": braw}, "batch tokens cannot be renewed"},
		{"revoke-self", "revoke-self", braw, be, nil, "batch tokens cannot be revoked"},
		{"revoke", "revoke", devRaw, dev, map[string]any{"token": braw}, "batch tokens cannot be revoked"},
		{"create child", "create", braw, be, nil, "batch tokens cannot create child tokens"},
		{"create orphan child", "create-orphan", braw, be, nil, "batch tokens cannot create child tokens"},
		{"batch with uses", "create", devRaw, dev, map[string]any{"type": "batch", "num_uses": 2}, "batch tokens cannot have a use limit"},
		{"periodic batch", "create", devRaw, dev, map[string]any{"type": "batch", "period": "1h"}, "batch tokens cannot be periodic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.call(logical.UpdateOperation, tt.path, tt.raw, tt.e, false, tt.data)
			assertKind(t, err, logical.KindInvalidRequest, tt.want)
		})
	}
	orphan, err := a.call(logical.UpdateOperation, "revoke-orphan", devRaw, dev, true, map[string]any{"token": braw})
	if orphan != nil || err == nil {
		t.Fatalf("revoke-orphan of a batch token = %v, %v", orphan, err)
	}
	if _, err := a.call(logical.UpdateOperation, "revoke", a.rootRaw, a.root, false, map[string]any{"token": devRaw}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Lookup(ctx, braw); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("batch token outlived its revoked parent: %v", err)
	}
}

func TestOptionsRedacted(t *testing.T) {
	key := []byte("SECRETKEYSECRETKEYSECRETKEY12345")
	o := Options{BatchKey: key}
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("x", "opts", o)
	for _, out := range []string{fmt.Sprint(o), fmt.Sprintf("%v %+v %#v %s", o, o, o, o), sb.String()} {
		if strings.Contains(out, "SECRETKEY") || strings.Contains(out, fmt.Sprint(key[:4])) || !strings.Contains(out, "[REDACTED]") {
			t.Fatalf("options printed as %q", out)
		}
	}
}

func TestNewStoreBadBatchKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewStore accepted a 16-byte batch key")
		}
	}()
	NewStore(newMemBackend(), testKey(), Options{BatchKey: make([]byte, 16)})
}

func ptr[T any](v T) *T { return &v }
