package netfault

import (
	"bufio"
	"net"
	"net/netip"
	"testing"
	"time"
)

// echo starts a line-echo server.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(from, addr string) error {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	_, err = bufio.NewReader(c).ReadString('\n')
	return err
}

func TestBlockIsolateHeal(t *testing.T) {
	p, err := Listen("127.0.0.1:0", echo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	a, b := "127.0.0.2", "127.0.0.3"
	for _, from := range []string{a, b} {
		if err := roundTrip(from, p.Addr()); err != nil {
			t.Fatalf("before faults, %s: %v", from, err)
		}
	}
	// An open connection from a is cut when a is blocked.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(a)}}
	open, err := d.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if _, err := open.Write([]byte("x\n")); err != nil {
		t.Fatal(err)
	}
	p.Block(netip.MustParseAddr(a))
	_ = open.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 16)
	for {
		if _, err := open.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("an open connection from a blocked source was not cut")
			}
			break
		}
	}
	if err := roundTrip(a, p.Addr()); err == nil {
		t.Fatal("blocked source got through")
	}
	if err := roundTrip(b, p.Addr()); err != nil {
		t.Fatalf("other source refused: %v", err)
	}
	p.Isolate()
	if err := roundTrip(b, p.Addr()); err == nil {
		t.Fatal("isolated proxy let a connection through")
	}
	p.Heal()
	for _, from := range []string{a, b} {
		if err := roundTrip(from, p.Addr()); err != nil {
			t.Fatalf("after heal, %s: %v", from, err)
		}
	}
}

// TestBlockRightAfterDial: a connection blocked before the proxy has set it
// up (accepted, dialled upstream, registered) is cut all the same.
func TestBlockRightAfterDial(t *testing.T) {
	p, err := Listen("127.0.0.1:0", echo(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	a := netip.MustParseAddr("127.0.0.2")
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: a.AsSlice()}}
	for i := range 50 {
		c, err := d.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		p.Block(a)
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = c.Read(make([]byte, 1))
		c.Close()
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("connection %d, blocked right after it was dialled, was not cut", i)
		}
		p.Unblock(a)
	}
}
