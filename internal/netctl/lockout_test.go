package netctl

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestLockout(t *testing.T) {
	c, clk := newTestControls(t, Options{Lockout: map[string]LockoutConfig{
		"all":     {Threshold: 3, Duration: 10 * time.Minute, CounterReset: 5 * time.Minute},
		"approle": {Disable: true},
	}})
	const mount = "userpass_1a2b3c4d"
	a, b := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.4")
	for range 2 {
		c.RecordLogin(mount, "bob", a, false)
	}
	if err := c.CheckLogin(mount, "bob", a); err != nil {
		t.Fatalf("locked before the threshold: %v", err)
	}
	c.RecordLogin(mount, "bob", a, false)
	err := c.CheckLogin(mount, "bob", a)
	if !errors.Is(err, ErrLockedOut) || logical.KindOf(err) != logical.KindPermissionDenied || err.Error() != "permission denied" {
		t.Fatalf("CheckLogin after threshold = %v", err)
	}
	if err := c.CheckLogin(mount, "bob", b); err != nil {
		t.Errorf("lockout leaked to another address: %v", err)
	}
	if err := c.CheckLogin(mount, "alice", a); err != nil {
		t.Errorf("lockout leaked to another user: %v", err)
	}
	if got := c.LockedUsers(); len(got) != 1 || got[0].User != "bob" || got[0].IP != a {
		t.Errorf("LockedUsers = %+v", got)
	}
	clk.Advance(10 * time.Minute)
	if err := c.CheckLogin(mount, "bob", a); err != nil {
		t.Errorf("lockout did not expire: %v", err)
	}
	// Failures older than the counter reset are forgotten.
	c.RecordLogin(mount, "carol", a, false)
	c.RecordLogin(mount, "carol", a, false)
	clk.Advance(6 * time.Minute)
	c.RecordLogin(mount, "carol", a, false)
	if err := c.CheckLogin(mount, "carol", a); err != nil {
		t.Errorf("stale failures counted: %v", err)
	}
	// A success clears the count.
	c.RecordLogin(mount, "dave", a, false)
	c.RecordLogin(mount, "dave", a, false)
	c.RecordLogin(mount, "dave", a, true)
	c.RecordLogin(mount, "dave", a, false)
	if err := c.CheckLogin(mount, "dave", a); err != nil {
		t.Errorf("success did not reset the count: %v", err)
	}
	// Unlock clears the user from every address.
	for _, ip := range []netip.Addr{a, b} {
		for range 3 {
			c.RecordLogin(mount, "erin", ip, false)
		}
	}
	if n := c.Unlock(mount, "erin"); n != 2 {
		t.Errorf("Unlock cleared %d entries, want 2", n)
	}
	if c.CheckLogin(mount, "erin", a) != nil || c.CheckLogin(mount, "erin", b) != nil {
		t.Error("Unlock left a lockout")
	}
	// Lockout disabled for approle.
	for range 10 {
		c.RecordLogin("approle_9f8e7d6c", "role", a, false)
	}
	if err := c.CheckLogin("approle_9f8e7d6c", "role", a); err != nil {
		t.Errorf("disabled lockout locked: %v", err)
	}
}

func TestBan(t *testing.T) {
	c, clk := newTestControls(t, Options{Ban: BanConfig{Threshold: 5, Window: time.Minute, Duration: 15 * time.Minute}})
	attacker, other := netip.MustParseAddr("198.51.100.9"), netip.MustParseAddr("198.51.100.10")
	for i := range 4 {
		c.RecordLogin("userpass_x", fmt.Sprintf("user%d", i), attacker, false)
	}
	if err := c.CheckAddr(attacker); err != nil {
		t.Fatalf("banned early: %v", err)
	}
	clk.Advance(2 * time.Minute) // the first four fall out of the window
	c.RecordLogin("userpass_x", "user4", attacker, false)
	if err := c.CheckAddr(attacker); err != nil {
		t.Fatalf("failures outside the window counted: %v", err)
	}
	for i := range 4 {
		c.RecordLogin("approle_y", fmt.Sprintf("role%d", i), attacker, false)
	}
	if err := c.CheckAddr(attacker); err != ErrBanned {
		t.Fatalf("CheckAddr = %v, want ErrBanned", err)
	}
	if err := c.CheckLogin("userpass_x", "someone", attacker); !errors.Is(err, ErrBanned) {
		t.Fatalf("CheckLogin of a banned address = %v", err)
	}
	if err := c.CheckAddr(other); err != nil {
		t.Errorf("ban leaked to another address: %v", err)
	}
	if bans := c.Bans(); len(bans) != 1 || bans[0].IP != attacker || !bans[0].Until.Equal(clk.Now().Add(15*time.Minute)) {
		t.Errorf("Bans = %+v", bans)
	}
	clk.Advance(15 * time.Minute)
	if err := c.CheckAddr(attacker); err != nil {
		t.Errorf("ban did not expire: %v", err)
	}
	for i := range 5 {
		c.RecordLogin("userpass_x", fmt.Sprintf("u%d", i), attacker, false)
	}
	if !c.Unban(attacker) || c.CheckAddr(attacker) != nil {
		t.Error("Unban did not lift the ban")
	}
	c.logins.sweep(clk.Now().Add(time.Hour), time.Minute, time.Minute)
	if len(c.logins.users)+len(c.logins.byIP)+len(c.logins.banned) != 0 {
		t.Error("sweep left expired state")
	}
}

func TestAuthType(t *testing.T) {
	for in, want := range map[string]string{"userpass_1a2b3c4d": "userpass", "auth_approle_12345678": "approle", "token": "token", "my_method_abc": "my_method"} {
		if got := authType(in); got != want {
			t.Errorf("authType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewRejectsBadBan(t *testing.T) {
	for _, b := range []BanConfig{{Threshold: -1}, {Threshold: 3}, {Threshold: 3, Window: time.Minute}} {
		if _, err := New(Options{Ban: b}); err == nil {
			t.Errorf("New accepted ban settings %+v", b)
		}
	}
}
