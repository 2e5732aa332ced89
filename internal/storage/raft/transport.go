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

// guardedTransport is raft's network transport with a deadline on the
// pipeline's hand-off. hashicorp/raft's netPipeline.AppendEntries waits
// without limit for room among the requests in flight: when a follower
// stops answering them (it rejected an entry and the leader's decoder
// gave up, or the connection went silent), the sender blocks for good,
// and with it the node's Shutdown (seen in tests). Closing the pipeline
// after the transport's timeout ends the wait with an error; raft then
// sets up replication to that follower again.
type guardedTransport struct {
	*hraft.NetworkTransport
	timeout time.Duration
}

// AppendEntriesPipeline implements hraft.Transport.
func (t guardedTransport) AppendEntriesPipeline(id hraft.ServerID, target hraft.ServerAddress) (hraft.AppendPipeline, error) {
	p, err := t.NetworkTransport.AppendEntriesPipeline(id, target)
	if err != nil {
		return nil, err
	}
	return guardedPipeline{AppendPipeline: p, timeout: t.timeout}, nil
}

type guardedPipeline struct {
	hraft.AppendPipeline
	timeout time.Duration
}

// AppendEntries implements hraft.AppendPipeline: a call still waiting
// after the timeout closes the pipeline, which ends it with an error.
func (p guardedPipeline) AppendEntries(args *hraft.AppendEntriesRequest, resp *hraft.AppendEntriesResponse) (hraft.AppendFuture, error) {
	t := time.AfterFunc(p.timeout, func() { _ = p.AppendPipeline.Close() })
	defer t.Stop()
	return p.AppendPipeline.AppendEntries(args, resp)
}
