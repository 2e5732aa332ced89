package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/apiclient"
)

func TestIncrement(t *testing.T) {
	const expireAt = 1_000_100
	base := time.Unix(1_000_000, 0)
	tests := []struct {
		name     string
		now      time.Time
		wantInc  int64
		wantWait time.Duration
	}{
		{"on the second", base, 100, 0},
		{"mid second", base.Add(500 * time.Millisecond), 100, 0},
		{"just before the cut-off", base.Add(949 * time.Millisecond), 100, 0},
		{"after the cut-off waits for the next second", base.Add(960 * time.Millisecond), 0, 40 * time.Millisecond},
		{"next second", base.Add(time.Second), 99, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc, wait := increment(tt.now, expireAt)
			if inc != tt.wantInc || wait != tt.wantWait {
				t.Fatalf("increment(%v) = %d, %v; want %d, %v", tt.now, inc, wait, tt.wantInc, tt.wantWait)
			}
			if wait == 0 {
				// The server adds inc to its clock, which reads now or a little later.
				for _, lat := range []time.Duration{0, 30 * time.Millisecond} {
					if got := tt.now.Add(lat).Add(time.Duration(inc) * time.Second).Unix(); got != expireAt {
						t.Fatalf("expiry with %v latency lands in second %d, want %d", lat, got, expireAt)
					}
				}
			}
		})
	}
}

// fakeVault serves creds, renew and lookup like Coffer's database engine and
// lease manager, with hooks to misbehave.
type fakeVault struct {
	fakeOpts
	now     func() time.Time
	onRenew func() // runs before each renewal

	mu     sync.Mutex
	next   int
	expiry map[string]time.Time
}

func (f *fakeVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	defer f.mu.Unlock()
	reply := func(v map[string]any) { _ = json.NewEncoder(w).Encode(v) }
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/database/creds/bench":
		f.next++
		id := fmt.Sprintf("database/creds/bench/%d", f.next)
		f.expiry[id] = f.now().Add(time.Hour)
		if f.noLease {
			id = ""
		}
		reply(map[string]any{"lease_id": id, "lease_duration": 3600, "data": map[string]any{"username": "u", "password": "p"}})
	case r.Method == http.MethodPut && r.URL.Path == "/v1/sys/leases/renew":
		if f.onRenew != nil {
			f.onRenew()
		}
		id, _ := body["lease_id"].(string)
		inc := int(body["increment"].(float64))
		if f.grantLess {
			inc--
		}
		f.expiry[id] = f.now().Add(time.Duration(inc) * time.Second)
		reply(map[string]any{"lease_id": id, "lease_duration": inc, "renewable": true})
	case r.Method == http.MethodPut && r.URL.Path == "/v1/sys/leases/lookup":
		id, _ := body["lease_id"].(string)
		exp, ok := f.expiry[id]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			reply(map[string]any{"errors": []string{"invalid lease"}})
			return
		}
		reply(map[string]any{"data": map[string]any{"id": id, "expire_time": exp.Add(f.lookupOff).Format(time.RFC3339Nano)}})
	default:
		w.WriteHeader(http.StatusNotFound)
		reply(map[string]any{"errors": []string{}})
	}
}

// fakeOpts are the ways a fakeVault misbehaves.
type fakeOpts struct {
	grantLess bool          // renew grants one second less than asked
	lookupOff time.Duration // lookup reports the expiry shifted
	noLease   bool          // creds answer without a lease
}

// fakeClock advances only when told, so the tests do not depend on timing.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newFake(t *testing.T, f *fakeVault) (*apiclient.Client, string) {
	t.Helper()
	f.expiry = map[string]time.Time{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := apiclient.New(apiclient.Config{Address: srv.URL, Token: "test-token"})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv.URL
}

func TestPrepare(t *testing.T) {
	tests := []struct {
		name    string
		fake    fakeOpts
		params  Params
		wantErr error
	}{
		{name: "aligns every lease", params: Params{Count: 300, Concurrency: 8, Headroom: 30 * time.Second, Sample: 50}},
		{name: "one lease, one worker", params: Params{Count: 1, Concurrency: 1, Sample: 5}},
		{name: "capped renewal", fake: fakeOpts{grantLess: true}, params: Params{Count: 20, Concurrency: 4, Sample: 5}, wantErr: ErrMisaligned},
		{name: "lookup disagrees", fake: fakeOpts{lookupOff: time.Second}, params: Params{Count: 20, Concurrency: 4, Sample: 5}, wantErr: ErrMisaligned},
		{name: "no count", params: Params{Count: 0, Concurrency: 4}, wantErr: ErrInvalidParams},
		{name: "no concurrency", params: Params{Count: 5, Concurrency: 0}, wantErr: ErrInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(2_000_000_000, 123_000_000)}
			fake := &fakeVault{fakeOpts: tt.fake, now: clock.Now}
			c, _ := newFake(t, fake)
			p := tt.params
			p.CredsPath, p.Now = "database/creds/bench", clock.Now
			p.Sleep = func(context.Context, time.Duration) { t.Error("sleep with a clock that never reaches the cut-off") }
			rep, err := Prepare(context.Background(), c, p, nil)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.Leases != p.Count || len(fake.expiry) != p.Count || rep.Sampled != min(p.Sample, p.Count) {
				t.Fatalf("report %+v, fake holds %d leases; want %d", rep, len(fake.expiry), p.Count)
			}
			for id, exp := range fake.expiry {
				if exp.Unix() != rep.ExpireAt {
					t.Fatalf("%s expires at %v, want second %d", id, exp, rep.ExpireAt)
				}
			}
			if left := time.Unix(rep.ExpireAt, 0).Sub(clock.Now()); left < p.Headroom {
				t.Fatalf("only %v left before the expiry, want %v", left, p.Headroom)
			}
			if rep.SampleMinExpire < float64(rep.ExpireAt) || rep.SampleMaxExpire >= float64(rep.ExpireAt+1) {
				t.Fatalf("sample expiries [%f, %f] outside second %d", rep.SampleMinExpire, rep.SampleMaxExpire, rep.ExpireAt)
			}
		})
	}
}

func TestPrepareSlowRenewalsFail(t *testing.T) {
	clock := &fakeClock{t: time.Unix(2_000_000_000, 0)}
	f := &fakeVault{now: clock.Now}
	// Each renewal takes a simulated 10 s: the renewals overrun the budget.
	f.onRenew = func() { clock.Advance(10 * time.Second) }
	c, _ := newFake(t, f)
	p := Params{CredsPath: "database/creds/bench", Count: 10, Concurrency: 1, Headroom: 20 * time.Second,
		Now: clock.Now, Sleep: func(_ context.Context, d time.Duration) { clock.Advance(d) }}
	if _, err := Prepare(context.Background(), c, p, nil); !errors.Is(err, ErrMisaligned) {
		t.Fatalf("err = %v, want ErrMisaligned", err)
	}
}

func TestPrepareCredsWithoutLease(t *testing.T) {
	c, _ := newFake(t, &fakeVault{fakeOpts: fakeOpts{noLease: true}, now: time.Now})
	_, err := Prepare(context.Background(), c, Params{CredsPath: "database/creds/bench", Count: 3, Concurrency: 2}, nil)
	if err == nil || !strings.Contains(err.Error(), "no lease") {
		t.Fatalf("err = %v, want a missing-lease error", err)
	}
}

func TestRun(t *testing.T) {
	_, addr := newFake(t, &fakeVault{now: time.Now})
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"prints the report", []string{"-count=5", "-concurrency=2", "-headroom=0s", "-sample=5"},
			map[string]string{"COFFER_ADDR": addr, "COFFER_TOKEN": "t"}, 0, `"leases": 5`, "issued 5/5"},
		{"bad flag", []string{"-nope"}, nil, 2, "", "flag provided but not defined"},
		{"bad address", []string{"-count=1"}, map[string]string{"COFFER_ADDR": "ftp://x"}, 1, "", "invalid server address"},
		{"unknown path", []string{"-count=1", "-creds=database/creds/none"},
			map[string]string{"COFFER_ADDR": addr, "COFFER_TOKEN": "t"}, 1, "", "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tt.args, env(tt.env), &out, &errOut)
			if code != tt.wantCode || !strings.Contains(out.String(), tt.wantOut) || !strings.Contains(errOut.String(), tt.wantErr) {
				t.Fatalf("code %d, stdout %q, stderr %q; want %d, %q, %q", code, out.String(), errOut.String(), tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}
}
