package raft

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// handshakeTimeout bounds the TLS handshake of a connection to the cluster
// port.
const handshakeTimeout = 10 * time.Second

// clusterPort is a node's cluster listener: one mutual-TLS port whose
// connections are told apart by ALPN. coffer-raft/1 connections go to
// raft's stream layer, coffer-rpc/1 connections to an HTTP/1.1 server.
// A connection is accepted only from a node certificate of the current CA
// whose node ID authorize accepts.
type clusterPort struct {
	ln        net.Listener
	advertise net.Addr
	source    net.Addr
	logger    *slog.Logger
	ident     atomic.Pointer[tlsIdentity]

	// Set by serve, before serving turns true; read only after serving
	// is seen true (raft may dial, and apply configurations, before).
	authorize func(nodeID string) bool
	expectID  func(addr string) string
	srv       *http.Server
	serving   atomic.Bool

	raftLn, rpcLn *chanListener

	mu    sync.Mutex
	conns map[net.Conn]string // accepted connections and their peers

	// ctx ends when the port closes, cutting handshakes short.
	ctx       context.Context
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// listenCluster binds the cluster port. Nothing is accepted before serve.
func listenCluster(bind string, advertise, source net.Addr, logger *slog.Logger) (*clusterPort, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	if advertise == nil {
		advertise = ln.Addr()
	}
	p := &clusterPort{ln: ln, advertise: advertise, source: source, logger: logger,
		conns: make(map[net.Conn]string), done: make(chan struct{})}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.raftLn = newChanListener(advertise, p.done)
	p.rpcLn = newChanListener(advertise, p.done)
	return p, nil
}

// serve starts accepting connections. authorize decides which node IDs may
// connect; expectID names the node expected at a dialled address ("" when
// unknown); handler serves coffer-rpc/1 requests.
func (p *clusterPort) serve(authorize func(string) bool, expectID func(string) string, handler http.Handler) {
	p.authorize, p.expectID = authorize, expectID
	p.srv = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: handshakeTimeout,
		IdleTimeout:       5 * time.Minute,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:          slog.NewLogLogger(p.logger.Handler(), slog.LevelDebug),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if rc, ok := c.(*rpcConn); ok {
				return withPeerNodeID(ctx, rc.node)
			}
			return ctx
		},
		ConnState: func(c net.Conn, st http.ConnState) {
			if st == http.StateClosed || st == http.StateHijacked {
				p.untrack(c)
			}
		},
	}
	p.serving.Store(true)
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		_ = p.srv.Serve(p.rpcLn)
	}()
	go func() {
		defer p.wg.Done()
		p.acceptLoop()
	}()
}

func (p *clusterPort) acceptLoop() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.logger.Debug("raft: cluster port accept", "err", err)
			select {
			case <-p.done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.handle(c)
		}()
	}
}

// handle runs the handshake, authorizes the peer and hands the connection
// on by protocol.
func (p *clusterPort) handle(c net.Conn) {
	tc := tls.Server(c, &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		id := p.ident.Load()
		if id == nil {
			return nil, ErrNoIdentity
		}
		return id.serverConfig(), nil
	}})
	ctx, cancel := context.WithTimeout(p.ctx, handshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		p.logger.Debug("raft: cluster handshake failed", "remote", c.RemoteAddr().String(), "err", err)
		_ = c.Close()
		return
	}
	st := tc.ConnectionState()
	node := peerNodeID(tc)
	if !p.authorize(node) {
		p.logger.Debug("raft: refused a node that is not in the cluster configuration", "node_id", node,
			"remote", c.RemoteAddr().String())
		_ = tc.Close()
		return
	}
	switch st.NegotiatedProtocol {
	case protoRaft:
		tracked := &trackedConn{Conn: tc, port: p}
		p.track(tracked, node)
		if !p.raftLn.deliver(tracked) {
			_ = tracked.Close()
		}
	case protoRPC:
		rc := &rpcConn{Conn: tc, tc: tc, node: node}
		p.track(rc, node)
		if !p.rpcLn.deliver(rc) {
			p.untrack(rc)
			_ = rc.Close()
		}
	default:
		p.logger.Debug("raft: refused a connection without a cluster protocol", "node_id", node)
		_ = tc.Close()
	}
}

// dial opens a connection to the node at addr speaking proto.
func (p *clusterPort) dial(ctx context.Context, addr, proto string) (*tls.Conn, error) {
	id := p.ident.Load()
	if id == nil {
		return nil, ErrNoIdentity
	}
	want := ""
	if p.serving.Load() {
		want = p.expectID(addr)
	}
	// The dialer's timeout bounds the connection and the handshake.
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: handshakeTimeout, LocalAddr: p.source},
		Config: id.clientConfig(proto, want)}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*tls.Conn), nil
}

// sweep closes accepted connections from nodes that are no longer
// authorized (removed from the configuration).
func (p *clusterPort) sweep() {
	if !p.serving.Load() {
		return // nothing accepted yet
	}
	p.mu.Lock()
	drop := make(map[net.Conn]string)
	for c, node := range p.conns {
		if !p.authorize(node) {
			drop[c] = node
		}
	}
	p.mu.Unlock()
	for c, node := range drop {
		p.logger.Debug("raft: closing a connection from a node no longer in the configuration", "node_id", node)
		_ = c.Close()
	}
}

func (p *clusterPort) track(c net.Conn, node string) {
	p.mu.Lock()
	p.conns[c] = node
	p.mu.Unlock()
}

func (p *clusterPort) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// close stops the listener, the RPC server and every accepted connection.
func (p *clusterPort) close() error {
	var err error
	p.closeOnce.Do(func() {
		close(p.done)
		p.cancel()
		err = p.ln.Close()
		if p.serving.Load() {
			_ = p.srv.Close()
		}
		p.mu.Lock()
		conns := make([]net.Conn, 0, len(p.conns))
		for c := range p.conns {
			conns = append(conns, c)
		}
		p.mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
		p.wg.Wait()
	})
	return err
}

// peerNodeID is the node ID of a verified peer: its leaf CommonName.
func peerNodeID(tc *tls.Conn) string {
	st := tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return ""
	}
	return st.PeerCertificates[0].Subject.CommonName
}

// trackedConn leaves the port's table when closed.
type trackedConn struct {
	net.Conn
	port *clusterPort
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.port.untrack(c) })
	return c.Conn.Close()
}

// rpcConn is an accepted coffer-rpc/1 connection. It hides the *tls.Conn
// from net/http, which would otherwise hand an unknown ALPN protocol to
// TLSNextProto, but still reports the TLS state (Request.TLS).
type rpcConn struct {
	net.Conn
	tc   *tls.Conn
	node string
}

// ConnectionState is what net/http reads into Request.TLS.
func (c *rpcConn) ConnectionState() tls.ConnectionState { return c.tc.ConnectionState() }

// chanListener is a net.Listener fed by the cluster port.
type chanListener struct {
	addr net.Addr
	ch   chan net.Conn
	done <-chan struct{}
}

func newChanListener(addr net.Addr, done <-chan struct{}) *chanListener {
	return &chanListener{addr: addr, ch: make(chan net.Conn), done: done}
}

// deliver hands c to Accept; false when the listener is closed.
func (l *chanListener) deliver(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

// Accept implements net.Listener.
func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener; the port closes both listeners at once.
func (l *chanListener) Close() error { return nil }

// Addr implements net.Listener.
func (l *chanListener) Addr() net.Addr { return l.addr }
