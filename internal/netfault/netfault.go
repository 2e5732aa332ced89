// Package netfault is a TCP proxy for tests that cuts chosen links: it
// forwards connections to one target and drops those from source addresses
// the test has partitioned away, to simulate network partitions between
// nodes on loopback.
package netfault

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
)

// Proxy forwards every accepted connection to Target unless its source
// address is blocked. Blocking a source also cuts its open connections.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	blocked map[netip.Addr]bool
	all     bool
	conns   map[net.Conn]netip.Addr
	closed  bool
	wg      sync.WaitGroup
}

// Listen starts a proxy on addr (e.g. "127.0.0.1:0") in front of target.
func Listen(addr, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, blocked: map[netip.Addr]bool{}, conns: map[net.Conn]netip.Addr{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's listening address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Block drops connections from src (and cuts the open ones) until Unblock.
func (p *Proxy) Block(src netip.Addr) {
	p.mu.Lock()
	p.blocked[src] = true
	p.mu.Unlock()
	p.cut(func(a netip.Addr) bool { return a == src })
}

// Unblock lets src through again.
func (p *Proxy) Unblock(src netip.Addr) {
	p.mu.Lock()
	delete(p.blocked, src)
	p.mu.Unlock()
}

// Isolate drops every connection, from any source, until Heal.
func (p *Proxy) Isolate() {
	p.mu.Lock()
	p.all = true
	p.mu.Unlock()
	p.cut(func(netip.Addr) bool { return true })
}

// Heal lifts Isolate and every Block.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.all = false
	clear(p.blocked)
	p.mu.Unlock()
}

// Close stops the proxy and cuts every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.cut(func(netip.Addr) bool { return true })
	p.wg.Wait()
	return err
}

func (p *Proxy) cut(match func(netip.Addr) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c, src := range p.conns {
		if match(src) {
			_ = c.Close()
		}
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		src := sourceOf(c)
		p.mu.Lock()
		refuse := p.closed || p.all || p.blocked[src]
		p.mu.Unlock()
		if refuse {
			_ = c.Close()
			continue
		}
		p.wg.Add(1)
		go p.forward(c, src)
	}
}

func sourceOf(c net.Conn) netip.Addr {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// forward copies both ways until either side closes or the link is cut.
// The connections are registered, for cut to find, under the same lock
// that checks the faults again: a Block, Isolate or Close that came after
// the accept but before the registration would otherwise miss them.
func (p *Proxy) forward(client net.Conn, src netip.Addr) {
	defer p.wg.Done()
	upstream, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	p.mu.Lock()
	if p.closed || p.all || p.blocked[src] {
		p.mu.Unlock()
		_ = client.Close()
		_ = upstream.Close()
		return
	}
	p.conns[client], p.conns[upstream] = src, src
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go pipe(upstream, client)
	go pipe(client, upstream)
	<-done
	<-done
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, upstream)
	p.mu.Unlock()
}
