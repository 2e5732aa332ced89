package raft

import (
	"context"
	"net"
	"time"

	hraft "github.com/hashicorp/raft"
)

// raftStream is raft's stream layer over the cluster port: it accepts the
// port's coffer-raft/1 connections and dials peers with that protocol, so
// nothing crosses the cluster port unauthenticated.
type raftStream struct{ port *clusterPort }

var _ hraft.StreamLayer = raftStream{}

// Accept implements net.Listener.
func (s raftStream) Accept() (net.Conn, error) { return s.port.raftLn.Accept() }

// Close implements net.Listener: raft's transport closing its stream
// closes the whole cluster port.
func (s raftStream) Close() error { return s.port.close() }

// Addr implements net.Listener with the advertised address.
func (s raftStream) Addr() net.Addr { return s.port.advertise }

// Dial implements raft.StreamLayer.
func (s raftStream) Dial(address hraft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.port.dial(ctx, string(address), protoRaft)
}
