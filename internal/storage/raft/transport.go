package raft

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	hraft "github.com/hashicorp/raft"
)

// tlsStream is raft's stream layer over mutual TLS: the listener requires a
// client certificate and dialing presents one, both checked against the
// cluster CA in the tls.Config, so nothing crosses the cluster port
// unauthenticated.
type tlsStream struct {
	net.Listener
	advertise net.Addr
	source    net.Addr
	client    *tls.Config
}

var _ hraft.StreamLayer = (*tlsStream)(nil)

// newTLSStream listens on bind. server must require and verify client
// certificates; client must carry this node's certificate and the CA.
func newTLSStream(bind string, advertise, source net.Addr, server, client *tls.Config) (*tlsStream, error) {
	if server == nil || client == nil {
		return nil, errors.New("storage: raft: the cluster transport needs TLS configurations")
	}
	if server.ClientAuth != tls.RequireAndVerifyClientCert {
		return nil, errors.New("storage: raft: the cluster listener must require and verify client certificates")
	}
	ln, err := tls.Listen("tcp", bind, server)
	if err != nil {
		return nil, err
	}
	if advertise == nil {
		advertise = ln.Addr()
	}
	return &tlsStream{Listener: ln, advertise: advertise, source: source, client: client}, nil
}

// Dial implements raft.StreamLayer.
func (s *tlsStream) Dial(address hraft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout, LocalAddr: s.source}, Config: s.client}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, "tcp", string(address))
}

// Addr implements net.Listener with the advertised address.
func (s *tlsStream) Addr() net.Addr { return s.advertise }
