package raft

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	hraft "github.com/hashicorp/raft"
)

// The cluster port's own coffer-rpc/1 endpoints. Every other path goes to
// Config.RPCHandler.
const (
	rpcPrefix    = "/cluster/v1/"
	rpcReadIndex = rpcPrefix + "read-index"
	rpcStats     = rpcPrefix + "stats"
	// maxRPCBody bounds the JSON answers a node reads from a peer.
	maxRPCBody = 64 << 10
	// maxErrorText bounds a peer's error message quoted in ours.
	maxErrorText = 256
)

// ErrRPC is returned when a peer's answer on the cluster port is not what
// the protocol says.
var ErrRPC = errors.New("storage: raft: bad answer from a peer")

type peerKey struct{}

func withPeerNodeID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, peerKey{}, id)
}

// PeerNodeID returns the node ID of the peer that sent a request on the
// cluster port (its verified certificate's CommonName), for handlers under
// Config.RPCHandler.
func PeerNodeID(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(peerKey{}).(string)
	return id, ok && id != ""
}

// NodeStats is a node's raft progress, served at /cluster/v1/stats.
type NodeStats struct {
	NodeID       string `json:"node_id"`
	LastIndex    uint64 `json:"last_index"`
	LastTerm     uint64 `json:"last_term"`
	AppliedIndex uint64 `json:"applied_index"`
	CommitIndex  uint64 `json:"commit_index"`
	// LastContactMs is the time since the leader was last heard from: 0
	// on the leader, -1 on a node that has never heard from one.
	LastContactMs int64 `json:"last_contact_ms"`
	// State is raft's state: Follower, Candidate, Leader or Shutdown.
	State string `json:"state"`
}

// LocalStats reports this node's raft progress.
func (b *Backend) LocalStats() NodeStats {
	st := b.raft.State()
	s := NodeStats{NodeID: b.cfg.NodeID, LastIndex: b.raft.LastIndex(), AppliedIndex: b.fsm.applied.Load(),
		CommitIndex: b.raft.CommitIndex(), State: st.String(), LastContactMs: -1}
	if t, err := strconv.ParseUint(b.raft.Stats()["last_log_term"], 10, 64); err == nil {
		s.LastTerm = t
	}
	switch last := b.raft.LastContact(); {
	case st == hraft.Leader:
		s.LastContactMs = 0
	case !last.IsZero():
		s.LastContactMs = time.Since(last).Milliseconds()
	}
	return s
}

// rpcHandler serves the port's own endpoints and passes the rest on.
func (b *Backend) rpcHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == rpcReadIndex && r.Method == http.MethodPost:
			b.serveReadIndex(w, r)
		case r.URL.Path == rpcStats && r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, b.LocalStats())
		case strings.HasPrefix(r.URL.Path, rpcPrefix) || next == nil:
			writeJSON(w, http.StatusNotFound, rpcError{Error: "no such cluster endpoint"})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

type readIndexAnswer struct {
	Index uint64 `json:"index"`
}

type rpcError struct {
	Error string `json:"error"`
}

func (b *Backend) serveReadIndex(w http.ResponseWriter, r *http.Request) {
	b.readIndexServed.Add(1)
	idx, err := b.ReadIndex(r.Context())
	switch {
	case errors.Is(err, ErrNotLeader):
		writeJSON(w, http.StatusConflict, rpcError{Error: err.Error()})
	case err != nil:
		writeJSON(w, http.StatusServiceUnavailable, rpcError{Error: err.Error()})
	default:
		writeJSON(w, http.StatusOK, readIndexAnswer{Index: idx})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newRPCClient builds the client that talks coffer-rpc/1 to peers.
func (b *Backend) newRPCClient() *http.Client {
	tr := &http.Transport{
		DialTLSContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return b.port.dial(ctx, addr, protoRPC)
		},
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Transport: tr}
}

// RPCClient is an HTTP client for coffer-rpc/1 requests to other nodes:
// https://<cluster address>/path dials that node's cluster port with this
// node's identity (keep-alive, pooled).
func (b *Backend) RPCClient() *http.Client { return b.rpc }

// LeaderRPCURL is the base URL of the leader's cluster port for RPCClient.
// It wraps ErrNotLeader when no leader is known.
func (b *Backend) LeaderRPCURL() (string, error) {
	_, addr := b.Leader()
	if addr == "" {
		return "", fmt.Errorf("%w: no leader known", ErrNotLeader)
	}
	return "https://" + addr, nil
}

// FetchStats asks the node at addr (its cluster address) for its stats.
func (b *Backend) FetchStats(ctx context.Context, addr string) (NodeStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+rpcStats, nil)
	if err != nil {
		return NodeStats{}, fmt.Errorf("storage: raft: stats of %s: %w", addr, err)
	}
	resp, err := b.rpc.Do(req)
	if err != nil {
		return NodeStats{}, fmt.Errorf("storage: raft: stats of %s: %w", addr, err)
	}
	defer resp.Body.Close()
	s, err := decodeStats(resp.StatusCode, resp.Body)
	if err != nil {
		return NodeStats{}, fmt.Errorf("storage: raft: stats of %s: %w", addr, err)
	}
	return s, nil
}

// fetchReadIndex asks the leader for its read index.
func (b *Backend) fetchReadIndex(ctx context.Context) (uint64, error) {
	base, err := b.LeaderRPCURL()
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+rpcReadIndex, nil)
	if err != nil {
		return 0, err
	}
	resp, err := b.rpc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("storage: raft: read index from the leader: %w", err)
	}
	defer resp.Body.Close()
	return decodeReadIndex(resp.StatusCode, resp.Body)
}

// decodeReadIndex parses the answer of /cluster/v1/read-index: 409 means
// the peer is not the leader.
func decodeReadIndex(status int, body io.Reader) (uint64, error) {
	var a readIndexAnswer
	if err := decodeAnswer(status, body, &a); err != nil {
		return 0, err
	}
	if a.Index == 0 {
		return 0, fmt.Errorf("%w: read index 0", ErrRPC)
	}
	return a.Index, nil
}

// decodeStats parses the answer of /cluster/v1/stats.
func decodeStats(status int, body io.Reader) (NodeStats, error) {
	var s NodeStats
	if err := decodeAnswer(status, body, &s); err != nil {
		return NodeStats{}, err
	}
	if s.NodeID == "" {
		return NodeStats{}, fmt.Errorf("%w: stats name no node", ErrRPC)
	}
	return s, nil
}

// decodeAnswer reads one bounded JSON answer into v, or the peer's error.
func decodeAnswer(status int, body io.Reader, v any) error {
	data, err := io.ReadAll(io.LimitReader(body, maxRPCBody+1))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRPC, err)
	}
	if len(data) > maxRPCBody {
		return fmt.Errorf("%w: answer larger than %d bytes", ErrRPC, maxRPCBody)
	}
	if status != http.StatusOK {
		var e rpcError
		msg := "no message"
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if len(msg) > maxErrorText {
			msg = msg[:maxErrorText] + "..."
		}
		if status == http.StatusConflict {
			return fmt.Errorf("%w: the peer says: %s", ErrNotLeader, msg)
		}
		return fmt.Errorf("%w: status %d: %s", ErrRPC, status, msg)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %w", ErrRPC, err)
	}
	return nil
}
