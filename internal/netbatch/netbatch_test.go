package netbatch

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingConn counts the writes that reach a connection, and fails them
// with fail once it is set.
type countingConn struct {
	net.Conn
	writes atomic.Int64
	fail   atomic.Pointer[error]
}

func (c *countingConn) Write(p []byte) (int, error) {
	if err := c.fail.Load(); err != nil {
		return 0, *err
	}
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// tcpPair returns the two ends of a loopback TCP connection; the server
// end counts its writes.
func tcpPair(t testing.TB) (*countingConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server := <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return &countingConn{Conn: server}, client
}

// batchingPair is tcpPair with the server end wrapped and batching.
func batchingPair(t *testing.T) (*Conn, *countingConn, net.Conn) {
	t.Helper()
	server, client := tcpPair(t)
	c := New(server)
	c.Batch()
	return c, server, client
}

// chunks returns n distinct chunks of size bytes each, and all of them
// joined.
func chunks(n, size int) ([][]byte, []byte) {
	var all []byte
	out := make([][]byte, n)
	for i := range out {
		out[i] = bytes.Repeat([]byte{byte('a' + i%26)}, size)
		copy(out[i], fmt.Sprintf("%06d", i))
		all = append(all, out[i]...)
	}
	return out, all
}

func readN(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, n)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return got
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// writeUntilError writes a byte at a time until a Write fails (a failed
// flush shows in the Write after it), for up to 10 seconds.
func writeUntilError(t *testing.T, c *Conn) error {
	t.Helper()
	var err error
	waitFor(t, "a Write to fail", func() bool {
		_, err = c.Write([]byte("x"))
		return err != nil
	})
	return err
}

func TestDirectModeWritesThrough(t *testing.T) {
	server, client := tcpPair(t)
	c := New(server)
	parts, all := chunks(5, 100)
	for _, p := range parts {
		if n, err := c.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if w := server.writes.Load(); w != 5 {
		t.Fatalf("%d writes reached the connection; want 5, one per Write", w)
	}
	if got := readN(t, client, len(all)); !bytes.Equal(got, all) {
		t.Fatal("the bytes arrived changed or out of order")
	}
	if c.Batching() {
		t.Fatal("a new Conn batches")
	}
}

// TestBatchingJoinsWritesMadeTogether: writes made while the flusher waits
// its turn go out in one write, in order. With one P the flusher runs only
// once the writing goroutine blocks.
func TestBatchingJoinsWritesMadeTogether(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	c, server, client := batchingPair(t)
	parts, all := chunks(20, 300)
	for _, p := range parts {
		if n, err := c.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got := readN(t, client, len(all)); !bytes.Equal(got, all) {
		t.Fatal("the bytes arrived changed or out of order")
	}
	if w := server.writes.Load(); w > 2 {
		t.Fatalf("20 writes made together took %d writes; want at most 2", w)
	}
}

// TestBatchingBlocksWritersOfAPeerThatStopsReading: a Write that finds
// MaxBuffered bytes waiting blocks, and every byte arrives in order once
// the peer reads again.
func TestBatchingBlocksWritersOfAPeerThatStopsReading(t *testing.T) {
	server, client := net.Pipe() // a write blocks until the other end reads
	defer client.Close()
	c := New(server)
	defer c.Close()
	c.Batch()
	const size = 16 << 10
	parts, all := chunks(4*MaxBuffered/size, size)
	var written atomic.Int64
	done := make(chan error, 1)
	go func() {
		for _, p := range parts {
			if _, err := c.Write(p); err != nil {
				done <- err
				return
			}
			written.Add(1)
		}
		done <- nil
	}()
	waitFor(t, "a Write to block", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.waiting > 0
	})
	c.mu.Lock()
	buffered := len(c.buf)
	c.mu.Unlock()
	if buffered > MaxBuffered+size {
		t.Fatalf("%d bytes buffered for a peer that does not read; want at most %d", buffered, MaxBuffered+size)
	}
	if n := written.Load(); n == int64(len(parts)) {
		t.Fatal("every Write returned although the peer read nothing")
	}
	if got := readN(t, client, len(all)); !bytes.Equal(got, all) {
		t.Fatal("the bytes arrived changed or out of order")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestBatchingReturnsAFlushErrorFromLaterWrites(t *testing.T) {
	server, _ := tcpPair(t)
	boom := errors.New("connection reset (test)")
	server.fail.Store(&boom)
	c := New(server)
	c.Batch()
	if _, err := c.Write([]byte("first")); err != nil {
		t.Fatalf("the first Write failed before any flush: %v", err)
	}
	if err := writeUntilError(t, c); !errors.Is(err, boom) {
		t.Fatalf("Write = %v; want the flush's error", err)
	}
}

func TestCloseFlushesWhatIsBuffered(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	c, _, client := batchingPair(t)
	_, all := chunks(1, 5000)
	if _, err := c.Write(all); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil { // before the flusher ran: one P
		t.Fatal(err)
	}
	if got := readN(t, client, len(all)); !bytes.Equal(got, all) {
		t.Fatal("the bytes arrived changed")
	}
	if _, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after the data = %v; want EOF", err)
	}
	if _, err := c.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Close = %v; want net.ErrClosed", err)
	}
}

// TestPastWriteDeadlineFlushesFirst: bytes written before a deadline that
// stops writing still go out (crypto/tls sends close_notify that way);
// writes after it fail.
func TestPastWriteDeadlineFlushesFirst(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	c, _, client := batchingPair(t)
	if _, err := c.Write([]byte("alert")); err != nil {
		t.Fatal(err)
	}
	if err := c.SetWriteDeadline(time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, client, 5); string(got) != "alert" {
		t.Fatalf("read %q; want the bytes written before the deadline", got)
	}
	if err := writeUntilError(t, c); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Write past the deadline = %v; want a deadline error", err)
	}
}

// TestCloseEndsAFlushHeldUpByThePeer: Close returns even when the flusher is
// stuck writing to a peer that stopped reading and no deadline is set.
func TestCloseEndsAFlushHeldUpByThePeer(t *testing.T) {
	defer func(g time.Duration) { flushGrace = g }(flushGrace)
	flushGrace = 50 * time.Millisecond
	server, client := net.Pipe()
	defer client.Close()
	c := New(server)
	c.Batch()
	if _, err := c.Write([]byte("never read")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the flusher to start writing", func() bool {
		if !c.wmu.TryLock() {
			return true
		}
		c.wmu.Unlock()
		return false
	})
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close is stuck behind a flush to a peer that does not read")
	}
}

// TestConnStateBatchesHTTP2Only: through a real TLS server, HTTP/2
// connections batch and HTTP/1.1 ones do not; concurrent responses on one
// batching connection all arrive intact.
func TestConnStateBatchesHTTP2Only(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "response to %s", r.URL.Query().Get("i"))
	}))
	// active holds each connection that became active, with the protocol
	// its handshake chose. A connection of the h2 run can become active
	// (on reading the client's preface) after that run has ended, so each
	// is checked against its own protocol, not the run's.
	type activeConn struct {
		c     *Conn
		proto string
	}
	var mu sync.Mutex
	var active []activeConn
	ts.Config.ConnState = func(c net.Conn, s http.ConnState) {
		ConnState(c, s)
		if s == http.StateActive {
			tc := c.(*tls.Conn)
			mu.Lock()
			active = append(active, activeConn{tc.NetConn().(*Conn), tc.ConnectionState().NegotiatedProtocol})
			mu.Unlock()
		}
	}
	ts.Listener = Listener{ts.Listener}
	ts.EnableHTTP2 = true
	ts.StartTLS()
	defer ts.Close()

	for _, proto := range []string{"h2", "http/1.1"} {
		t.Run(proto, func(t *testing.T) {
			tr := ts.Client().Transport.(*http.Transport).Clone()
			if proto == "http/1.1" {
				tr.ForceAttemptHTTP2 = false
				tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
				tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			}
			defer tr.CloseIdleConnections()
			mu.Lock()
			active = nil
			mu.Unlock()
			var wg sync.WaitGroup
			errs := make(chan error, 50)
			for i := range 50 {
				wg.Go(func() {
					res, err := (&http.Client{Transport: tr}).Get(fmt.Sprintf("%s/?i=%d", ts.URL, i))
					if err != nil {
						errs <- err
						return
					}
					defer res.Body.Close()
					body, err := io.ReadAll(res.Body)
					if want := fmt.Sprintf("response to %d", i); err != nil || string(body) != want || res.Proto != map[string]string{"h2": "HTTP/2.0", "http/1.1": "HTTP/1.1"}[proto] {
						errs <- fmt.Errorf("request %d: %s %q, %v; want %q over %s", i, res.Proto, body, err, want, proto)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			ours := 0
			for _, a := range active {
				if (a.proto == "h2") == (proto == "h2") { // an HTTP/1.1 client may send no ALPN
					ours++
				}
				if a.c.Batching() != (a.proto == "h2") {
					t.Errorf("a connection that negotiated %q: Batching() = %v", a.proto, a.c.Batching())
				}
			}
			if ours == 0 {
				t.Fatalf("no %s connection became active", proto)
			}
		})
	}
}

// BenchmarkWrite: 1 KiB writes from 8 goroutines to one loopback TCP
// connection (as the frames of concurrent HTTP/2 responses reach it), in
// direct mode and batching. writes/op is how many write(2) calls each
// Write cost.
func BenchmarkWrite(b *testing.B) {
	for _, batch := range []bool{false, true} {
		b.Run(map[bool]string{false: "direct", true: "batching"}[batch], func(b *testing.B) {
			server, client := tcpPair(b)
			go func() { _, _ = io.Copy(io.Discard, client) }()
			c := New(server)
			if batch {
				c.Batch()
			}
			defer c.Close()
			var mu sync.Mutex // callers of one connection write one at a time, as crypto/tls does
			p := make([]byte, 1024)
			b.SetBytes(int64(len(p)))
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mu.Lock()
					_, err := c.Write(p)
					mu.Unlock()
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(server.writes.Load())/float64(b.N), "writes/op")
		})
	}
}
