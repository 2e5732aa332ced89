package token

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// tree builds root → a → {b1 → c, b2} plus root → sibling and returns them.
func tree(t *testing.T, ts *testStore) map[string]*Entry {
	t.Helper()
	_, root := mustCreate(t, ts.Store, rootParams())
	_, a := mustCreate(t, ts.Store, CreateParams{Parent: root})
	_, b1 := mustCreate(t, ts.Store, CreateParams{Parent: a})
	_, b2 := mustCreate(t, ts.Store, CreateParams{Parent: a})
	_, c := mustCreate(t, ts.Store, CreateParams{Parent: b1})
	_, sibling := mustCreate(t, ts.Store, CreateParams{Parent: root})
	return map[string]*Entry{"root": root, "a": a, "b1": b1, "b2": b2, "c": c, "sibling": sibling}
}

func alive(ctx context.Context, ts *testStore, e *Entry) bool {
	_, err := ts.LookupAccessor(ctx, e.Accessor)
	return err == nil
}

func TestRevokeTree(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	nodes := tree(t, ts)
	if err := ts.Revoke(ctx, nodes["a"]); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	for name, want := range map[string]bool{"root": true, "sibling": true, "a": false, "b1": false, "b2": false, "c": false} {
		if got := alive(ctx, ts, nodes[name]); got != want {
			t.Errorf("%s alive = %v, want %v", name, got, want)
		}
	}
	got := ts.revokedAccessors()
	if len(got) != 4 {
		t.Fatalf("OnRevoke called %d times, want 4", len(got))
	}
	pos := func(name string) int { return slices.Index(got, nodes[name].Accessor) }
	if !(pos("c") < pos("b1") && pos("b1") < pos("a") && pos("b2") < pos("a")) {
		t.Errorf("OnRevoke order %v is not depth first", got)
	}
	for _, k := range ts.mem.keys("") {
		for _, n := range []string{"a", "b1", "b2", "c"} {
			if strings.Contains(k, nodes[n].Hash) || strings.Contains(k, nodes[n].Accessor) {
				t.Errorf("key %q of revoked token %s left behind", k, n)
			}
		}
	}
	if err := ts.Revoke(ctx, nodes["a"]); err != nil {
		t.Errorf("second Revoke: %v", err)
	}
	if len(ts.revokedAccessors()) != 4 {
		t.Errorf("second Revoke called OnRevoke again")
	}
}

func TestRevokeRetriesAfterOnRevokeError(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	fail := true
	ts.opts.OnRevoke = func(_ context.Context, e *Entry) error {
		if fail && e.Parent != "" {
			return errors.New("lease backend down")
		}
		return nil
	}
	rawParent, parent := mustCreate(t, ts.Store, CreateParams{})
	_, child := mustCreate(t, ts.Store, CreateParams{Parent: parent})
	if err := ts.Revoke(ctx, parent); err == nil {
		t.Fatal("Revoke succeeded despite OnRevoke failing")
	}
	if _, err := ts.Lookup(ctx, rawParent); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("parent still valid after a failed revocation: %v", err)
	}
	if len(ts.mem.keys(idPrefix)) != 2 {
		t.Errorf("entries deleted despite the error: %v", ts.mem.keys(idPrefix))
	}
	fail = false
	if err := ts.Revoke(ctx, parent); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if keys := ts.mem.keys(""); len(keys) != 0 {
		t.Errorf("retry left keys %v (child %s)", keys, child.Accessor)
	}
}

func TestRevokeOrphan(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	nodes := tree(t, ts)
	if err := ts.RevokeOrphan(ctx, nodes["a"]); err != nil {
		t.Fatalf("RevokeOrphan: %v", err)
	}
	if alive(ctx, ts, nodes["a"]) {
		t.Error("a still alive")
	}
	for _, n := range []string{"b1", "b2"} {
		e, err := ts.LookupAccessor(ctx, nodes[n].Accessor)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if e.Parent != "" || !e.Orphan {
			t.Errorf("%s: Parent=%q Orphan=%v, want orphan", n, e.Parent, e.Orphan)
		}
	}
	if keys := ts.mem.keys(childrenPrefix(nodes["a"].Hash)); len(keys) != 0 {
		t.Errorf("children index of a left: %v", keys)
	}
	if got := ts.revokedAccessors(); len(got) != 1 || got[0] != nodes["a"].Accessor {
		t.Errorf("OnRevoke calls = %v, want only a", got)
	}
	// Revoking the root no longer reaches b1, b2 or c (still b1's child).
	if err := ts.Revoke(ctx, nodes["root"]); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"b1": true, "b2": true, "c": true, "sibling": false} {
		if got := alive(ctx, ts, nodes[name]); got != want {
			t.Errorf("after revoking root, %s alive = %v, want %v", name, got, want)
		}
	}
}

func TestCreateParentRules(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	_, root := mustCreate(t, ts.Store, rootParams())
	_, expiring := mustCreate(t, ts.Store, CreateParams{TTL: time.Hour})
	_, limited := mustCreate(t, ts.Store, CreateParams{NumUses: 5})
	_, revoked := mustCreate(t, ts.Store, CreateParams{})
	if err := ts.Revoke(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	cidr := netip.MustParsePrefix("10.0.0.0/8")
	_, bound := mustCreate(t, ts.Store, CreateParams{BoundCIDRs: []netip.Prefix{cidr}, EntityID: "ent-1"})
	for _, tt := range []struct {
		name string
		p    CreateParams
		want error
	}{
		{"revoked parent", CreateParams{Parent: revoked}, ErrParentInvalid},
		{"limited parent", CreateParams{Parent: limited}, ErrRestrictedParent},
		{"limited parent, orphan", CreateParams{Parent: limited, Orphan: true}, ErrRestrictedParent},
		{"non-expiring child of expiring parent", CreateParams{Parent: expiring, Policies: []string{"root"}, NoExpiry: true}, ErrNonExpiringChild},
		{"negative uses", CreateParams{NumUses: -1}, ErrInvalidParams},
		{"negative ttl", CreateParams{TTL: -time.Second}, ErrInvalidParams},
		{"root child of root", CreateParams{Parent: root, Policies: []string{"root"}, NoExpiry: true}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ts.Create(ctx, tt.p)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Create error = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("linked child inherits CIDRs and entity", func(t *testing.T) {
		_, c := mustCreate(t, ts.Store, CreateParams{Parent: bound})
		if len(c.BoundCIDRs) != 1 || c.BoundCIDRs[0] != cidr || c.EntityID != "ent-1" || c.Orphan {
			t.Errorf("child = %+v", c)
		}
		_, o := mustCreate(t, ts.Store, CreateParams{Parent: bound, Orphan: true})
		if len(o.BoundCIDRs) != 0 || o.EntityID != "" || !o.Orphan || o.Parent != "" {
			t.Errorf("orphan = %+v", o)
		}
	})
}

func TestCheckCIDR(t *testing.T) {
	ts := newTestStore(t)
	_, e := mustCreate(t, ts.Store, CreateParams{BoundCIDRs: []netip.Prefix{
		netip.MustParsePrefix("10.1.0.0/16"),
		netip.MustParsePrefix("::ffff:192.168.1.0/120"),
		netip.MustParsePrefix("2001:db8::/32"),
	}})
	_, free := mustCreate(t, ts.Store, CreateParams{})
	for _, tt := range []struct {
		entry  *Entry
		remote string
		ok     bool
	}{
		{e, "10.1.2.3", true},
		{e, "10.2.0.1", false},
		{e, "::ffff:10.1.0.9", true},
		{e, "192.168.1.77", true},
		{e, "192.168.2.1", false},
		{e, "2001:db8::1", true},
		{e, "2001:db9::1", false},
		{e, "", false},
		{free, "203.0.113.9", true},
	} {
		t.Run(tt.remote, func(t *testing.T) {
			var addr netip.Addr
			if tt.remote != "" {
				addr = netip.MustParseAddr(tt.remote)
			}
			err := ts.CheckCIDR(tt.entry, addr)
			if tt.ok && err != nil || !tt.ok && !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("CheckCIDR(%s) = %v, want ok=%v", tt.remote, err, tt.ok)
			}
		})
	}
}

func TestTidy(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	_, parent := mustCreate(t, ts.Store, CreateParams{})
	_, child := mustCreate(t, ts.Store, CreateParams{Parent: parent, TTL: time.Hour})
	_, healthy := mustCreate(t, ts.Store, CreateParams{Parent: parent})
	// Simulate damage: the parent entry vanished without its indexes, and
	// stray keys point at tokens that never existed.
	ghost := strings.Repeat("f", 64)
	for _, k := range []string{accessorKey("GhostAccessor"), childKey(healthy.Hash, ghost), expiryKey(ts.clock.Now(), ghost)} {
		if err := ts.mem.Transaction(ctx, []storage.TxnOp{put(k, []byte(ghost))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ts.mem.Delete(ctx, idKey(parent.Hash)); err != nil {
		t.Fatal(err)
	}
	before := len(ts.mem.keys(""))
	n, err := ts.Tidy(ctx)
	// parent's accessor and expiry keys, the ghost accessor, the ghost child
	// of healthy, the ghost expiry key, and the two children of the missing
	// parent.
	if err != nil || n != 7 {
		t.Fatalf("Tidy = %d, %v; want 7", n, err)
	}
	for _, e := range []*Entry{child, healthy} {
		got, err := ts.LookupAccessor(ctx, e.Accessor)
		if err != nil || got.Parent != "" || !got.Orphan {
			t.Errorf("child %s after tidy: %+v, %v", e.Accessor, got, err)
		}
	}
	if after := len(ts.mem.keys("")); after != before-7 {
		t.Errorf("keys %d → %d, want 7 fewer", before, after)
	}
	if n, err := ts.Tidy(ctx); n != 0 || err != nil {
		t.Errorf("second Tidy = %d, %v; want 0", n, err)
	}
	if accs, _ := ts.Accessors(ctx); len(accs) != 2 {
		t.Errorf("Accessors = %v, want the two children", accs)
	}
}

// TestCreateRacesRevoke creates children while their parent is revoked:
// every child either fails with ErrParentInvalid or is revoked with the
// parent, so no token outlives its parent.
func TestCreateRacesRevoke(t *testing.T) {
	ctx := context.Background()
	ts := newTestStore(t)
	_, parent := mustCreate(t, ts.Store, CreateParams{})
	errs := make(chan error, 20)
	start := make(chan struct{})
	for range 20 {
		go func() {
			<-start
			_, _, err := ts.Create(ctx, CreateParams{Parent: parent})
			errs <- err
		}()
	}
	close(start)
	if err := ts.Revoke(ctx, parent); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := <-errs; err != nil && !errors.Is(err, ErrParentInvalid) {
			t.Errorf("Create error = %v", err)
		}
	}
	if keys := ts.mem.keys(""); len(keys) != 0 {
		t.Fatalf("tokens outlived their revoked parent: %v", keys)
	}
}
