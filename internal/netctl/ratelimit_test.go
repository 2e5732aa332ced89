package netctl

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

// clock is an injectable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newTestControls(t *testing.T, opts Options) (*Controls, *clock) {
	t.Helper()
	clk := newClock()
	opts.Now = clk.Now
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, clk
}

func TestRateLimit(t *testing.T) {
	c, clk := newTestControls(t, Options{})
	a, b := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.4")
	if d := c.RateLimit("secret/data/x", a); !d.Allowed || d.Quota != "" {
		t.Fatalf("no quotas: %+v", d)
	}
	err := c.SetQuotas([]Quota{
		{Name: "global", Rate: 100},
		{Name: "kv", Path: "secret/", Rate: 3, Interval: time.Minute},
		{Name: "login", Path: "auth/userpass/login*", Rate: 1, BlockInterval: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if d := c.RateLimit("secret/data/x", a); !d.Allowed || d.Quota != "kv" || d.Remaining != 2-i {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	d := c.RateLimit("secret/data/x", a)
	if d.Allowed || d.RetryAfter != 20*time.Second {
		t.Fatalf("over quota: %+v, want refused with RetryAfter 20s", d)
	}
	if d := c.RateLimit("secret/data/x", b); !d.Allowed {
		t.Fatalf("another client was limited: %+v", d)
	}
	if d := c.RateLimit("sys/mounts", a); !d.Allowed || d.Quota != "global" {
		t.Fatalf("global quota: %+v", d)
	}
	if d := c.RateLimit("sys/health", a); !d.Allowed || d.Quota != "" {
		t.Fatalf("exempt path: %+v", d)
	}
	clk.Advance(20 * time.Second)
	if d := c.RateLimit("secret/data/x", a); !d.Allowed {
		t.Fatalf("after refill: %+v", d)
	}
	// block_interval keeps refusing after the bucket refilled.
	c.RateLimit("auth/userpass/login/bob", a)
	if d := c.RateLimit("auth/userpass/login/bob", a); d.Allowed || d.RetryAfter != time.Hour {
		t.Fatalf("block interval: %+v", d)
	}
	clk.Advance(30 * time.Minute)
	if d := c.RateLimit("auth/userpass/login/bob", a); d.Allowed {
		t.Fatalf("blocked client allowed early: %+v", d)
	}
	clk.Advance(31 * time.Minute)
	if d := c.RateLimit("auth/userpass/login/bob", a); !d.Allowed {
		t.Fatalf("block did not expire: %+v", d)
	}
	c.SetQuotaConfig(QuotaConfig{ExemptPaths: []string{"secret/"}, ResponseHeaders: true})
	if d := c.RateLimit("sys/health", a); d.Quota != "global" || !d.Headers {
		t.Fatalf("replaced exempt list not applied: %+v", d)
	}
	c.limit.sweep(clk.Now().Add(2 * time.Hour))
	if n := len(c.limit.buckets); n != 0 {
		t.Errorf("sweep left %d idle buckets", n)
	}
}

func TestQuotaValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    Quota
		ok   bool
	}{
		{"ok", Quota{Name: "a", Rate: 0.5}, true},
		{"no name", Quota{Rate: 1}, false},
		{"zero rate", Quota{Name: "a"}, false},
		{"negative interval", Quota{Name: "a", Rate: 1, Interval: -time.Second}, false},
		{"negative block", Quota{Name: "a", Rate: 1, BlockInterval: -time.Second}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.q.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
