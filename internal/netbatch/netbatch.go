// Package netbatch wraps a server's accepted connections so that, once
// switched on for a connection, writes made close together go out in one
// system call.
//
// Go's HTTP/2 server flushes a connection whenever its queue of frames is
// empty, and it is handed the frames of concurrent responses one at a time,
// so each response tends to cost a write(2) of its own. On loopback or a
// busy host each of those also wakes the client. A Conn in batching mode
// instead appends each Write to a buffer and wakes a flusher goroutine,
// which first lets the goroutines that are ready to run go (the other
// responses under way) and then writes everything buffered in one call.
//
// A Conn starts in direct mode (every Write goes straight through), so the
// TLS handshake and HTTP/1.1, where a connection has one response in flight
// at a time, pay nothing. [ConnState] switches HTTP/2 connections to
// batching as net/http reports them active.
package netbatch

import (
	"crypto/tls"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// MaxBuffered bounds what a batching Conn holds unwritten: a Write that
// finds this much waiting blocks until the flusher has written it, so a
// peer that stops reading stops the writer as it would without batching.
const MaxBuffered = 256 << 10

// flushGrace bounds the flush that Close, or a write deadline in the past,
// makes of what is buffered when no earlier write deadline is set (as
// crypto/tls bounds its close_notify alert).
var flushGrace = 5 * time.Second

// Conn is a net.Conn whose writes can be batched. Its zero value is not
// usable; see [New].
type Conn struct {
	net.Conn

	batching atomic.Bool
	decided  atomic.Bool // ConnState looked at this connection already

	// wmu serialises writes to the underlying connection, so a flush
	// never overtakes or interleaves with another.
	wmu sync.Mutex

	mu      sync.Mutex
	drained sync.Cond // signalled (on mu) after every flush
	buf     []byte    // written by callers, not yet flushed
	spare   []byte    // the other buffer, reused
	err     error     // first error of a flush; every later Write returns it
	pending bool      // the flusher has been woken for buf
	closed  bool
	waiting int       // Writes blocked on MaxBuffered (tests)
	wdl     time.Time // the write deadline last set
	kick    chan struct{}
}

// New wraps c in direct mode.
func New(c net.Conn) *Conn {
	b := &Conn{Conn: c}
	b.drained.L = &b.mu
	return b
}

// Listener wraps every connection ln accepts with [New].
type Listener struct{ net.Listener }

// Accept waits for the next connection and wraps it.
func (l Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return New(c), nil
}

// ConnState is an http.Server ConnState hook (for a server whose listener
// is a tls.NewListener over a [Listener]). When a connection first becomes
// active, it switches the Conn under it to batching if the TLS handshake
// chose HTTP/2. Anything else is left in direct mode.
func ConnState(c net.Conn, state http.ConnState) {
	if state != http.StateActive {
		return
	}
	tc, ok := c.(*tls.Conn)
	if !ok {
		return
	}
	b, ok := tc.NetConn().(*Conn)
	if !ok || b.decided.Swap(true) {
		return
	}
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		b.Batch()
	}
}

// Batch switches c to batching; it cannot be switched back. It starts the
// connection's flusher goroutine, which ends when c is closed.
func (c *Conn) Batch() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.batching.Load() {
		return
	}
	c.kick = make(chan struct{}, 1)
	c.batching.Store(true)
	go c.flusher(c.kick)
}

// Batching reports whether c batches its writes.
func (c *Conn) Batching() bool { return c.batching.Load() }

// Write writes p through in direct mode. In batching mode it appends p to
// the buffer the flusher writes and returns; it blocks while MaxBuffered
// bytes wait, and returns the first error a flush met.
func (c *Conn) Write(p []byte) (int, error) {
	if !c.batching.Load() {
		c.wmu.Lock()
		defer c.wmu.Unlock()
		return c.Conn.Write(p)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.buf) >= MaxBuffered && c.err == nil && !c.closed {
		c.waiting++
		c.drained.Wait()
		c.waiting--
	}
	switch {
	case c.err != nil:
		return 0, c.err
	case c.closed:
		return 0, net.ErrClosed
	}
	c.buf = append(c.buf, p...)
	if !c.pending {
		c.pending = true
		select {
		case c.kick <- struct{}{}:
		default: // a kick is queued already; its flush will take p too
		}
	}
	return len(p), nil
}

// flusher writes what callers buffer until kick is closed.
func (c *Conn) flusher(kick <-chan struct{}) {
	for range kick {
		// Let the goroutines that are ready to run go first: on a busy
		// server they are mostly other responses about to write.
		runtime.Gosched()
		c.flush()
	}
}

// flush writes everything buffered, now.
func (c *Conn) flush() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	b := c.buf
	c.buf, c.spare, c.pending = c.spare[:0], nil, false
	err := c.err
	c.mu.Unlock()
	if len(b) > 0 && err == nil {
		_, err = c.Conn.Write(b)
	}
	c.mu.Lock()
	if err != nil && c.err == nil {
		c.err = err
	}
	if cap(b) <= 2*MaxBuffered {
		c.spare = b[:0]
	}
	c.drained.Broadcast()
	c.mu.Unlock()
}

// SetDeadline sets both deadlines, the write deadline as SetWriteDeadline
// does.
func (c *Conn) SetDeadline(t time.Time) error {
	err := c.SetWriteDeadline(t)
	if rerr := c.Conn.SetReadDeadline(t); err == nil {
		err = rerr
	}
	return err
}

// SetWriteDeadline sets the write deadline. A deadline in the past stops
// writing, so what is buffered is flushed first, under the deadline it was
// written with (at most flushGrace from now): crypto/tls's Close sends its
// close_notify alert that way, just before such a deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if c.batching.Load() {
		c.mu.Lock()
		old := c.wdl
		c.wdl = t
		c.mu.Unlock()
		if !t.IsZero() && !t.After(time.Now()) {
			c.flushBounded(old)
		}
	}
	return c.Conn.SetWriteDeadline(t)
}

// flushBounded flushes under deadline dl, or flushGrace from now if that is
// sooner or dl is unset. Setting it first also ends a flush in progress
// that a peer which stopped reading holds up.
func (c *Conn) flushBounded(dl time.Time) {
	bound := time.Now().Add(flushGrace)
	if !dl.IsZero() && dl.Before(bound) {
		bound = dl
	}
	_ = c.Conn.SetWriteDeadline(bound)
	c.flush()
}

// Close flushes what is buffered (within the write deadline, at most
// flushGrace), stops the flusher and closes the connection. Writes after
// Close fail with net.ErrClosed.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	c.closed = true
	c.drained.Broadcast()
	kick, dl := c.kick, c.wdl
	c.mu.Unlock()
	if kick != nil {
		c.flushBounded(dl)
		close(kick)
	}
	return c.Conn.Close()
}
