package token

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

func boolPtr(b bool) *bool { return &b }

// createCase is one Create call and the entry fields it should produce.
type createCase struct {
	name string
	p    CreateParams
	want Entry // fields compared: Policies, DisplayName, Path, TTL, Renewable, NumUses, Orphan
	exp  time.Duration
}

func createCases() []createCase {
	return []createCase{
		{
			name: "defaults",
			p:    CreateParams{Policies: []string{"b", " A ", "b", ""}},
			want: Entry{Policies: []string{"a", "b", "default"}, DisplayName: "token", Path: DefaultCreatePath, TTL: defaultSystemTTL, Renewable: true, Orphan: true},
			exp:  defaultSystemTTL,
		},
		{
			name: "no default policy strips an explicit default",
			p:    CreateParams{Policies: []string{"default", "x"}, NoDefaultPolicy: true, TTL: time.Hour, Renewable: boolPtr(false), NumUses: 2, DisplayName: "token-ci", Path: "auth/userpass/login/bob"},
			want: Entry{Policies: []string{"x"}, DisplayName: "token-ci", Path: "auth/userpass/login/bob", TTL: time.Hour, NumUses: 2, Orphan: true},
			exp:  time.Hour,
		},
		{
			name: "root drops other policies and never expires",
			p:    CreateParams{Policies: []string{"a", "root"}, NoExpiry: true},
			want: Entry{Policies: []string{"root"}, DisplayName: "token", Path: DefaultCreatePath, Orphan: true},
		},
		{
			name: "root with explicit max ttl expires",
			p:    CreateParams{Policies: []string{"root"}, NoExpiry: true, ExplicitMaxTTL: time.Hour},
			want: Entry{Policies: []string{"root"}, DisplayName: "token", Path: DefaultCreatePath, TTL: time.Hour, Renewable: true, Orphan: true},
			exp:  time.Hour,
		},
		{
			name: "ttl capped by explicit max",
			p:    CreateParams{TTL: 10 * time.Hour, ExplicitMaxTTL: 2 * time.Hour},
			want: Entry{Policies: []string{"default"}, DisplayName: "token", Path: DefaultCreatePath, TTL: 2 * time.Hour, Renewable: true, Orphan: true},
			exp:  2 * time.Hour,
		},
		{
			name: "ttl capped by system max",
			p:    CreateParams{TTL: 10000 * time.Hour},
			want: Entry{Policies: []string{"default"}, DisplayName: "token", Path: DefaultCreatePath, TTL: defaultSystemTTL, Renewable: true, Orphan: true},
			exp:  defaultSystemTTL,
		},
		{
			name: "period sets ttl",
			p:    CreateParams{Period: 30 * time.Minute, TTL: 5 * time.Hour},
			want: Entry{Policies: []string{"default"}, DisplayName: "token", Path: DefaultCreatePath, TTL: 30 * time.Minute, Renewable: true, Orphan: true},
			exp:  30 * time.Minute,
		},
	}
}

func TestCreateLookup(t *testing.T) {
	ctx := context.Background()
	for _, tt := range createCases() {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestStore(t)
			raw, created := mustCreate(t, ts.Store, tt.p)
			if !strings.HasPrefix(raw, "hvs.") || len(raw) != len("hvs.")+24 || !isBase62(raw[4:]) {
				t.Fatalf("raw token has shape %d chars, prefix ok=%v", len(raw), strings.HasPrefix(raw, "hvs."))
			}
			got, err := ts.Lookup(ctx, raw)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if !reflect.DeepEqual(got, created) {
				t.Fatalf("Lookup returned\n%+v\nCreate returned\n%+v", got, created)
			}
			g := Entry{Policies: got.Policies, DisplayName: got.DisplayName, Path: got.Path, TTL: got.TTL,
				Renewable: got.Renewable, NumUses: got.NumUses, Orphan: got.Orphan}
			if !reflect.DeepEqual(g, tt.want) {
				t.Errorf("entry = %+v, want %+v", g, tt.want)
			}
			wantExp := time.Time{}
			if tt.exp != 0 {
				wantExp = ts.clock.Now().Add(tt.exp)
			}
			if !got.ExpireTime.Equal(wantExp) {
				t.Errorf("ExpireTime = %v, want %v", got.ExpireTime, wantExp)
			}
			if len(got.Accessor) != 24 || len(got.CubbyholeID) != 24 || got.Type != TypeService {
				t.Errorf("accessor %q, cubbyhole %q, type %q", got.Accessor, got.CubbyholeID, got.Type)
			}
			byAcc, err := ts.LookupAccessor(ctx, got.Accessor)
			if err != nil || byAcc.Hash != got.Hash {
				t.Errorf("LookupAccessor = %v, %v", byAcc, err)
			}
		})
	}
}

func TestLookupRejects(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	raw, _ := mustCreate(t, ts.Store, CreateParams{})
	other := NewStore(ts.mem, []byte("another key of thirty-two bytes!"), Options{Now: ts.clock.Now})
	for _, tt := range []struct {
		name  string
		store *Store
		raw   string
	}{
		{"empty", ts.Store, ""},
		{"unknown", ts.Store, "hvs." + strings.Repeat("A", 24)},
		{"no prefix", ts.Store, raw[4:]},
		{"wrong prefix", ts.Store, "hvb." + raw[4:]},
		{"bad alphabet", ts.Store, raw[:len(raw)-1] + "-"},
		{"too short", ts.Store, raw[:len(raw)-1]},
		{"too long", ts.Store, "hvs." + strings.Repeat("a", 200)},
		{"other hmac key", other, raw},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.store.Lookup(ctx, tt.raw); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Lookup error = %v, want ErrInvalidToken", err)
			}
		})
	}
	for _, acc := range []string{"", "nope", "a/b", strings.Repeat("a", 65)} {
		if _, err := ts.LookupAccessor(ctx, acc); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("LookupAccessor(%q) error = %v, want ErrInvalidToken", acc, err)
		}
	}
}

func TestStorageHoldsOnlyKeyedHashes(t *testing.T) {
	ts := newTestStore(t)
	rootRaw, root := mustCreate(t, ts.Store, rootParams())
	raws := []string{rootRaw}
	for i := range 5 {
		raw, _ := mustCreate(t, ts.Store, CreateParams{Parent: root, Policies: []string{fmt.Sprint("p", i)}, TTL: time.Hour})
		raws = append(raws, raw)
	}
	for _, raw := range raws {
		e, err := ts.Lookup(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if want := hashToken(testKey(), raw); e.Hash != want {
			t.Errorf("hash is not the HMAC of the raw token")
		}
		for _, k := range ts.mem.keys("") {
			v, _ := ts.mem.Get(context.Background(), k)
			for _, needle := range []string{raw, raw[4:]} {
				if strings.Contains(k, needle) || bytes.Contains(v.Value, []byte(needle)) {
					t.Fatalf("raw token found in storage key %q or its value", k)
				}
			}
		}
	}
	if got := len(ts.mem.keys(idPrefix)); got != len(raws) {
		t.Errorf("%d token entries stored, want %d", got, len(raws))
	}
}

func TestEntryPrintsWithoutHash(t *testing.T) {
	ts := newTestStore(t)
	_, e := mustCreate(t, ts.Store, CreateParams{Policies: []string{"dev"}})
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("t", "token", e)
	for _, out := range []string{fmt.Sprint(e), fmt.Sprintf("%+v", *e), buf.String()} {
		if strings.Contains(out, e.Hash) || !strings.Contains(out, e.Accessor) {
			t.Errorf("output %q: want accessor and no hash", out)
		}
	}
}

func TestExpiryIsImmediateAndLazilyRevoked(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	raw, e := mustCreate(t, ts.Store, CreateParams{TTL: time.Hour})
	ts.clock.Advance(time.Hour - time.Nanosecond)
	if _, err := ts.Lookup(ctx, raw); err != nil {
		t.Fatalf("Lookup just before expiry: %v", err)
	}
	ts.clock.Advance(time.Nanosecond)
	if _, err := ts.Lookup(ctx, raw); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Lookup at expiry = %v, want ErrInvalidToken", err)
	}
	if keys := ts.mem.keys(""); len(keys) != 0 {
		t.Errorf("expired token left keys %v", keys)
	}
	if got := ts.revokedAccessors(); !reflect.DeepEqual(got, []string{e.Accessor}) {
		t.Errorf("OnRevoke calls = %v", got)
	}
}

func TestRevokeExpiredUsesIndex(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	_, root := mustCreate(t, ts.Store, rootParams())
	_, due1 := mustCreate(t, ts.Store, CreateParams{TTL: time.Hour})
	_, due2 := mustCreate(t, ts.Store, CreateParams{Parent: root, TTL: 2 * time.Hour})
	_, dueChild := mustCreate(t, ts.Store, CreateParams{Parent: due2, TTL: 5 * time.Hour})
	_, later := mustCreate(t, ts.Store, CreateParams{TTL: 3 * time.Hour})
	ghost := expiryKey(ts.clock.Now().Add(time.Minute), strings.Repeat("e", 64))
	if err := ts.mem.Put(ctx, storageEntry(ghost, "x")); err != nil {
		t.Fatal(err)
	}
	ts.clock.Advance(150 * time.Minute)
	ts.mem.resetLog()

	n, err := ts.RevokeExpired(ctx)
	if err != nil || n != 3 {
		t.Fatalf("RevokeExpired = %d, %v; want 3 (two due tokens and a child)", n, err)
	}
	gets, lists := ts.mem.log()
	for _, g := range gets {
		if g == idKey(root.Hash) || g == idKey(later.Hash) {
			t.Errorf("RevokeExpired read %s, which is not due", g)
		}
	}
	for _, l := range lists {
		if l == idPrefix || l == accessorPrefix {
			t.Errorf("RevokeExpired listed %q: a full scan", l)
		}
	}
	for _, e := range []*Entry{due1, due2, dueChild} {
		if _, err := ts.LookupAccessor(ctx, e.Accessor); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("token %s survived", e.Accessor)
		}
	}
	for _, e := range []*Entry{root, later} {
		if _, err := ts.LookupAccessor(ctx, e.Accessor); err != nil {
			t.Errorf("token %s was revoked: %v", e.Accessor, err)
		}
	}
	if got := ts.mem.keys(expiryPrefix); len(got) != 1 || got[0] != expiryKey(later.ExpireTime, later.Hash) {
		t.Errorf("expiry index = %v, want only the later token", got)
	}
}

func TestUseConcurrent(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	raw, _ := mustCreate(t, ts.Store, CreateParams{NumUses: 3})
	e, err := ts.Lookup(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		last bool
		err  error
	}
	results := make(chan result, 10)
	start := make(chan struct{})
	for range 10 {
		go func() {
			<-start
			last, err := ts.Use(ctx, e)
			results <- result{last, err}
		}()
	}
	close(start)
	ok, lasts := 0, 0
	for range 10 {
		r := <-results
		switch {
		case r.err == nil:
			ok++
			if r.last {
				lasts++
			}
		case !errors.Is(r.err, ErrTokenLimit) || !errors.Is(r.err, ErrInvalidToken):
			t.Errorf("Use error = %v, want ErrTokenLimit and ErrInvalidToken", r.err)
		}
	}
	if ok != 3 || lasts != 1 {
		t.Fatalf("%d uses succeeded (%d last), want 3 (1 last)", ok, lasts)
	}
	if _, err := ts.Lookup(ctx, raw); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Lookup after the last use = %v, want ErrInvalidToken", err)
	}
	if e.NumUses != 3 {
		t.Errorf("Use modified the caller's entry: NumUses = %d", e.NumUses)
	}
}

func TestUseUnlimited(t *testing.T) {
	ts := newTestStore(t)
	_, e := mustCreate(t, ts.Store, CreateParams{})
	ts.mem.resetLog()
	for range 3 {
		if last, err := ts.Use(context.Background(), e); last || err != nil {
			t.Fatalf("Use = %v, %v", last, err)
		}
	}
	if gets, _ := ts.mem.log(); len(gets) != 0 {
		t.Errorf("Use of an unlimited token read storage: %v", gets)
	}
}

// failingBackend fails every read after fail is set.
type failingBackend struct {
	*memBackend
	fail bool
}

func (f *failingBackend) Get(ctx context.Context, key string) (*storage.Entry, error) {
	if f.fail {
		return nil, errors.New("disk on fire")
	}
	return f.memBackend.Get(ctx, key)
}

func TestStorageErrorsAreNotInvalidToken(t *testing.T) {
	ctx := context.Background()
	fb := &failingBackend{memBackend: newMemBackend()}
	s := NewStore(fb, testKey(), Options{})
	rootRaw, root := mustCreate(t, s, rootParams())
	raw, _ := mustCreate(t, s, CreateParams{Parent: root})
	fb.fail = true
	_, err := s.Lookup(ctx, raw)
	if err == nil || errors.Is(err, ErrInvalidToken) || strings.Contains(err.Error(), raw[4:]) {
		t.Fatalf("Lookup with failing storage = %v", err)
	}
	_, err = NewBackend(s).HandleRequest(ctx, &logical.Request{
		Operation: logical.UpdateOperation, Path: "lookup", Data: map[string]any{"token": raw},
		ClientToken: rootRaw, Caller: caller(root, false),
	})
	var le *logical.Error
	if !errors.As(err, &le) || le.Kind != logical.KindInternal || le.Msg != "internal error" {
		t.Fatalf("API error = %#v, want an internal error", err)
	}
}

func TestCustomID(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	raw, e, err := s.Create(ctx, CreateParams{ID: "root", Policies: []string{"root"}, NoExpiry: true})
	if err != nil || raw != "root" {
		t.Fatalf("create with custom id = %q, %v", raw, err)
	}
	got, err := s.Lookup(ctx, "root")
	if err != nil || got.Accessor != e.Accessor {
		t.Fatalf("lookup custom id = %v, %v", got, err)
	}
	if _, _, err := s.Create(ctx, CreateParams{ID: "root"}); !errors.Is(err, ErrInvalidParams) {
		t.Fatalf("duplicate custom id: %v; want ErrInvalidParams", err)
	}
	for _, bad := range []string{"has.dot", "has space", strings.Repeat("a", 129)} {
		if _, _, err := s.Create(ctx, CreateParams{ID: bad}); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("custom id %q: %v; want ErrInvalidParams", bad, err)
		}
	}
}
