package httpapi

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// A request's max_request_duration used to be a context.WithTimeout: a
// timer armed and stopped, and a child registered with the stream's
// context, on every request (about 2 µs of a KV read's server CPU). Most
// requests never wait on their context at all: a cached read answers
// without blocking. lazyDeadline carries the deadline from the start, for
// every Deadline and Err check, and arms a real timer only when something
// asks for Done, that is, when the request is about to block.

// lazyDeadline is a context that expires at deadline, or when its parent
// ends, whichever is first. Once armed it is the real deadline context in
// every respect; before that, Err and Deadline answer as it would have.
type lazyDeadline struct {
	parent   context.Context
	deadline time.Time

	mu     sync.Mutex
	inner  atomic.Pointer[context.Context] // the real deadline context, once armed
	cancel context.CancelFunc
	ended  atomic.Pointer[error] // what Err says for good once release ran
}

// withLazyDeadline returns a context that expires d from now (or earlier,
// with its parent) and the function that ends it with the request.
func withLazyDeadline(parent context.Context, d time.Duration) (context.Context, func()) {
	dl := time.Now().Add(d)
	if pd, ok := parent.Deadline(); ok && pd.Before(dl) {
		dl = pd
	}
	c := &lazyDeadline{parent: parent, deadline: dl}
	return c, c.release
}

func (c *lazyDeadline) Deadline() (time.Time, bool) { return c.deadline, true }

// Done arms the timer the first time it is asked for.
func (c *lazyDeadline) Done() <-chan struct{} { return c.arm().Done() }

// Err answers as context.WithDeadline's would: the parent's error, then
// DeadlineExceeded once the deadline has passed, then Canceled once the
// request has ended.
func (c *lazyDeadline) Err() error {
	if inner := c.inner.Load(); inner != nil {
		return (*inner).Err()
	}
	if ended := c.ended.Load(); ended != nil {
		return *ended
	}
	return c.unarmedErr()
}

func (c *lazyDeadline) unarmedErr() error {
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// Value is the armed context's (so context.Cause and children see the
// real cancellation), else the parent's.
func (c *lazyDeadline) Value(key any) any {
	if inner := c.inner.Load(); inner != nil {
		return (*inner).Value(key)
	}
	return c.parent.Value(key)
}

// AfterFunc makes context.WithCancel and the like hang their children off
// the armed context instead of starting a goroutine for each.
func (c *lazyDeadline) AfterFunc(f func()) func() bool {
	return context.AfterFunc(c.arm(), f)
}

// arm creates the real deadline context once.
func (c *lazyDeadline) arm() context.Context {
	if inner := c.inner.Load(); inner != nil {
		return *inner
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if inner := c.inner.Load(); inner != nil {
		return *inner
	}
	var inner context.Context
	var cancel context.CancelFunc
	if ended := c.ended.Load(); ended != nil && *ended == context.Canceled {
		// Released before its deadline: Canceled for good, even if the
		// deadline has passed by now.
		inner, cancel = context.WithCancel(c.parent)
	} else {
		inner, cancel = context.WithDeadline(c.parent, c.deadline)
	}
	if c.ended.Load() != nil {
		cancel() // too late to wait on: Done is closed, as it would be
	}
	c.cancel = cancel
	c.inner.Store(&inner)
	return inner
}

// release ends the context with its request: an armed timer is stopped.
func (c *lazyDeadline) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended.Load() != nil {
		return
	}
	err := c.unarmedErr()
	if err == nil {
		err = context.Canceled
	}
	c.ended.Store(&err)
	if c.cancel != nil {
		c.cancel()
	}
}
