package lease

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// fakeClock is a manual clock whose AfterFunc timers fire on Advance.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	if d <= 0 {
		t.stopped = true
		go f()
	}
	return t
}

// Advance moves the clock and fires the timers that fell due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var fire []func()
	for _, t := range c.timers {
		if !t.stopped && !t.at.After(c.now) {
			t.stopped = true
			fire = append(fire, t.f)
		}
	}
	c.mu.Unlock()
	for _, f := range fire {
		f()
	}
}

// active returns the pending timers' due times.
func (c *fakeClock) active() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	for _, t := range c.timers {
		if !t.stopped {
			out = append(out, t.at)
		}
	}
	return out
}

// fakeRevoker records revocations and fails while fail is set.
type fakeRevoker struct {
	mu      sync.Mutex
	revoked []string
	calls   int
	fail    bool
	renewTo time.Duration
}

var errEngineDown = errors.New("engine down")

func (r *fakeRevoker) RevokeLease(_ context.Context, l *Lease) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail {
		return errEngineDown
	}
	r.revoked = append(r.revoked, l.ID)
	return nil
}

func (r *fakeRevoker) RenewLease(_ context.Context, _ *Lease, inc time.Duration) (time.Duration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return 0, errEngineDown
	}
	if r.renewTo > 0 {
		return r.renewTo, nil
	}
	return inc, nil
}

func (r *fakeRevoker) setFail(v bool) { r.mu.Lock(); r.fail = v; r.mu.Unlock() }

func (r *fakeRevoker) revokedIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.revoked...)
}

func (r *fakeRevoker) callCount() int { r.mu.Lock(); defer r.mu.Unlock(); return r.calls }

// countingBackend counts calls and listed names on a backend.
type countingBackend struct {
	storage.Backend
	mu                  sync.Mutex
	gets, lists, listed int
}

func (c *countingBackend) Get(ctx context.Context, key string) (*storage.Entry, error) {
	c.mu.Lock()
	c.gets++
	c.mu.Unlock()
	return c.Backend.Get(ctx, key)
}

func (c *countingBackend) List(ctx context.Context, prefix string) ([]string, error) {
	out, err := c.Backend.List(ctx, prefix)
	c.mu.Lock()
	c.lists++
	c.listed += len(out)
	c.mu.Unlock()
	return out, err
}

func (c *countingBackend) reset() { c.mu.Lock(); c.gets, c.lists, c.listed = 0, 0, 0; c.mu.Unlock() }

// harness is a manager over inmem storage with a fake clock and revoker.
type harness struct {
	mgr   *Manager
	clock *fakeClock
	rev   *fakeRevoker
	store storage.Backend
}

func newHarness(t testing.TB, opts Options) *harness {
	t.Helper()
	h := &harness{clock: newClock(), rev: &fakeRevoker{}, store: storage.NewView(inmem.New(), "sys/expire/")}
	h.mgr = h.newManager(opts)
	return h
}

func (h *harness) newManager(opts Options) *Manager {
	opts.Now, opts.AfterFunc = h.clock.Now, h.clock.AfterFunc
	if opts.Workers == 0 {
		opts.Workers = 1
	}
	return New(h.store, h.rev, opts)
}

func (h *harness) register(t testing.TB, mount, path, accessor string, ttl time.Duration) string {
	t.Helper()
	id, err := h.mgr.Register(context.Background(), &Lease{MountPoint: mount, Path: path, TokenAccessor: accessor,
		TTL: ttl, Renewable: true, InternalData: map[string]any{"username": "u"}})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	return id
}

// waitFor polls cond until it holds; the expiry loop runs asynchronously.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
