package raft

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// followersOf returns the nodes that are not leader.
func followersOf(leader *Backend, nodes []*Backend) []*Backend {
	var out []*Backend
	for _, nd := range nodes {
		if nd != leader {
			out = append(out, nd)
		}
	}
	return out
}

// rpcGet sends GET url through from's RPC client and returns the status
// and body.
func rpcGet(t *testing.T, from *Backend, url string) (int, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := from.RPCClient().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// followerFixture is a 3-node cluster whose RPC handler records the peer
// node ID of every request, by path.
type followerFixture struct {
	leader    *Backend
	followers []*Backend
	nodes     []*Backend
	mu        sync.Mutex
	seen      map[string][]string
}

func newFollowerFixture(t *testing.T) *followerFixture {
	f := &followerFixture{seen: map[string][]string{}}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := PeerNodeID(r.Context())
		if !ok {
			http.Error(w, "no peer", http.StatusInternalServerError)
			return
		}
		f.mu.Lock()
		f.seen[r.URL.Path] = append(f.seen[r.URL.Path], id)
		f.mu.Unlock()
		_, _ = io.WriteString(w, "forwarded:"+id)
	})
	_, f.nodes = testClusterWith(t, 3, func(_ int, cfg *Config) { cfg.RPCHandler = handler })
	f.leader = waitLeader(t, f.nodes)
	f.followers = followersOf(f.leader, f.nodes)
	return f
}

// TestFollowerReads covers reads and RPCs on a follower of a 3-node
// cluster: consistent reads see every acknowledged write at once, writes
// are refused as read-only, the RPC handler learns who called, and stats
// travel over the cluster port.
func TestFollowerReads(t *testing.T) {
	f := newFollowerFixture(t)
	t.Run("consistent read sees acknowledged writes", f.consistentRead)
	t.Run("follower writes are read-only", f.readOnly)
	t.Run("rpc handler sees the peer node id", f.rpcHandler)
	t.Run("cluster endpoints", f.clusterEndpoints)
	t.Run("stats", f.stats)
	t.Run("concurrent consistent reads share read-index requests", f.batching)
}

func (f *followerFixture) consistentRead(t *testing.T) {
	ctx := context.Background()
	for i := range 30 {
		key, val := fmt.Sprintf("cr/%02d", i), fmt.Sprintf("v%d", i)
		if err := f.leader.Put(ctx, &storage.Entry{Key: key, Value: []byte(val)}); err != nil {
			t.Fatal(err)
		}
		nd := f.followers[i%2]
		if err := nd.ConsistentRead(ctx); err != nil {
			t.Fatalf("%s: %v", nd.NodeID(), err)
		}
		e, err := nd.Get(ctx, key)
		if err != nil || string(e.Value) != val {
			t.Fatalf("%s after ConsistentRead: %v %v; want %s", nd.NodeID(), e, err, val)
		}
	}
	if err := f.leader.ConsistentRead(ctx); err != nil {
		t.Fatalf("leader: %v", err)
	}
}

func (f *followerFixture) readOnly(t *testing.T) {
	err := f.followers[0].Put(context.Background(), &storage.Entry{Key: "w", Value: []byte("x")})
	if !errors.Is(err, storage.ErrReadOnly) || !errors.Is(err, ErrNotLeader) {
		t.Fatalf("follower write: %v; want ErrReadOnly and ErrNotLeader", err)
	}
}

func (f *followerFixture) rpcHandler(t *testing.T) {
	from := f.followers[0]
	base, err := from.LeaderRPCURL()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/secret/data/x", "/v1/sys/leader"} {
		status, body, err := rpcGet(t, from, base+path)
		if want := "forwarded:" + from.NodeID(); err != nil || status != http.StatusOK || body != want {
			t.Fatalf("GET %s: %d %q %v; want 200 %q", path, status, body, err, want)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := f.seen["/v1/secret/data/x"]; len(got) != 1 || got[0] != from.NodeID() {
		t.Fatalf("handler saw %v", got)
	}
}

func (f *followerFixture) clusterEndpoints(t *testing.T) {
	base, _ := f.followers[1].LeaderRPCURL()
	cases := []struct {
		path   string
		status int
		want   string
	}{
		{"/cluster/v1/nope", http.StatusNotFound, "no such cluster endpoint"},
		{"/cluster/v1/stats", http.StatusOK, `"state":"Leader"`},
		{"/cluster/v1/read-index", http.StatusNotFound, ""}, // POST only
	}
	for _, c := range cases {
		status, body, err := rpcGet(t, f.followers[1], base+c.path)
		if err != nil || status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("GET %s: %d %q %v; want %d containing %q", c.path, status, body, err, c.status, c.want)
		}
	}
}

func (f *followerFixture) stats(t *testing.T) {
	syncFollowers(t, f.leader, f.nodes)
	for _, nd := range f.nodes {
		s, err := f.followers[0].FetchStats(context.Background(), nd.LocalAddr())
		if err != nil {
			t.Fatal(err)
		}
		wantState := "Follower"
		if nd == f.leader {
			wantState = "Leader"
		}
		if s.NodeID != nd.NodeID() || s.State != wantState || s.AppliedIndex == 0 || s.LastTerm == 0 ||
			s.LastIndex < s.AppliedIndex || s.CommitIndex == 0 {
			t.Errorf("stats of %s: %+v", nd.NodeID(), s)
		}
		if nd == f.leader && s.LastContactMs != 0 || nd != f.leader && s.LastContactMs < 0 {
			t.Errorf("stats of %s: last contact %d", nd.NodeID(), s.LastContactMs)
		}
	}
}

func (f *followerFixture) batching(t *testing.T) {
	const readers = 16
	before := f.leader.readIndexServed.Load()
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.followers[0].ConsistentRead(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	served := f.leader.readIndexServed.Load() - before
	t.Logf("%d concurrent reads took %d read-index requests", readers, served)
	if served == 0 || served > readers/2 {
		t.Fatalf("%d concurrent reads took %d read-index requests; want them shared", readers, served)
	}
}

// TestPeerAuthorization checks who may connect to the cluster port: not a
// node certified by another CA, not a node removed from the configuration,
// and not a node without an identity; a node with no configuration of its
// own accepts any node of its CA, so it can be joined.
func TestPeerAuthorization(t *testing.T) {
	ctx := context.Background()
	ca, nodes := testCluster(t, 3)
	leader := waitLeader(t, nodes)
	stranger := testNode(t, ca, "stranger", t.TempDir()) // same CA, not a member, no configuration
	t.Cleanup(func() { _ = stranger.Close() })
	other, err := NewCA("other")
	if err != nil {
		t.Fatal(err)
	}
	foreign := testNode(t, other, "node-1", t.TempDir()) // claims a member's id
	t.Cleanup(func() { _ = foreign.Close() })
	bare, err := Open(Config{Dir: t.TempDir(), NodeID: "bare", BindAddr: "127.0.0.1:0", Timing: testTiming})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bare.Close() })

	cases := []struct {
		name     string
		from, to *Backend
		wantErr  error // nil: the call must succeed
	}{
		{"member to leader", nodes[1], leader, nil},
		{"foreign CA to leader", foreign, leader, errAny},
		{"leader to foreign CA", leader, foreign, ErrPeerRefused},
		{"non-member to leader", stranger, leader, errAny},
		{"leader to unjoined node", leader, stranger, nil},
		{"no identity to leader", bare, leader, ErrNoIdentity},
		{"leader to node without identity", leader, bare, errAny},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := c.from.FetchStats(ctx, c.to.LocalAddr())
			switch {
			case c.wantErr == nil && (err != nil || s.NodeID != c.to.NodeID()):
				t.Fatalf("stats: %+v, %v; want those of %s", s, err, c.to.NodeID())
			case c.wantErr != nil && err == nil:
				t.Fatalf("the connection was accepted: %+v", s)
			case c.wantErr != nil && c.wantErr != errAny && !errors.Is(err, c.wantErr):
				t.Fatalf("err %v; want %v", err, c.wantErr)
			}
		})
	}

	t.Run("removed node is refused", func(t *testing.T) { checkRemovedRefused(t, nodes) })
}

// checkRemovedRefused removes a follower: the other nodes then refuse
// its connections, new and pooled.
func checkRemovedRefused(t *testing.T, nodes []*Backend) {
	ctx := context.Background()
	leader := waitLeader(t, nodes)
	victim := followersOf(leader, nodes)[0]
	if _, err := victim.FetchStats(ctx, leader.LocalAddr()); err != nil {
		t.Fatalf("before removal: %v", err)
	}
	if err := leader.RemovePeer(victim.NodeID()); err != nil {
		t.Fatal(err)
	}
	syncFollowers(t, leader, followersOf(victim, nodes))
	// The victim's pooled connection to the leader is closed too, once
	// the leader has applied the removal.
	for _, nd := range followersOf(victim, nodes) {
		waitFor(t, nd.NodeID()+" refuses the removed node", func() bool {
			_, err := victim.FetchStats(ctx, nd.LocalAddr())
			return err != nil
		})
		for range 3 {
			if s, err := victim.FetchStats(ctx, nd.LocalAddr()); err == nil {
				t.Fatalf("%s accepts the removed node again: %+v", nd.NodeID(), s)
			}
		}
	}
}

// errAny marks a case that must fail, whatever the error (a refused
// handshake shows up as a TLS alert or a closed connection).
var errAny = errors.New("any error")

// TestJoinWithLaterIdentity opens a node without an identity, gives it one
// and adds it: it replicates like any member.
func TestJoinWithLaterIdentity(t *testing.T) {
	ctx := context.Background()
	ca, nodes := testCluster(t, 1)
	leader := waitLeader(t, nodes)
	if err := leader.Put(ctx, &storage.Entry{Key: "before", Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	late, err := Open(Config{Dir: t.TempDir(), NodeID: "late", BindAddr: "127.0.0.1:0", Timing: testTiming})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = late.Close() })
	wrong, err := ca.IssueNode("someone-else", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := late.SetIdentity(wrong); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("identity of another node: %v; want ErrInvalidConfig", err)
	}
	ident, err := ca.IssueNode("late", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := late.SetIdentity(ident); err != nil {
		t.Fatal(err)
	}
	addVoter(t, nodes, late)
	syncFollowers(t, leader, []*Backend{late})
	if e, err := late.Get(ctx, "before"); err != nil || string(e.Value) != "x" {
		t.Fatalf("joined node: %v %v", e, err)
	}
}

// TestIdentitySwap replaces the CA of a running cluster: after SetIdentity
// on every node, new connections present and require the new CA, and the
// cluster keeps replicating.
func TestIdentitySwap(t *testing.T) {
	ctx := context.Background()
	oldCA, nodes := testCluster(t, 3)
	leader := waitLeader(t, nodes)
	newCA, err := NewCA("rotated")
	if err != nil {
		t.Fatal(err)
	}
	for _, nd := range nodes {
		ident, err := newCA.IssueNode(nd.NodeID(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := nd.SetIdentity(ident); err != nil {
			t.Fatal(err)
		}
	}
	follower := followersOf(leader, nodes)[0]
	base, _ := follower.LeaderRPCURL()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+rpcStats, nil)
	resp, err := follower.RPCClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.TLS.PeerCertificates[0]; got.CheckSignatureFrom(newCA.Cert) != nil {
		t.Fatalf("the leader presented a certificate issued by %q", got.Issuer.CommonName)
	}
	// A node still holding the old CA's certificate is refused.
	stale := testNode(t, oldCA, nodes[2].NodeID(), t.TempDir())
	t.Cleanup(func() { _ = stale.Close() })
	if _, err := stale.FetchStats(ctx, leader.LocalAddr()); err == nil {
		t.Fatal("a certificate of the old CA was accepted after the swap")
	}
	// New raft connections use the new identity too: a node certified by
	// the new CA joins and replicates.
	joiner := testNode(t, newCA, "node-3", t.TempDir())
	t.Cleanup(func() { _ = joiner.Close() })
	addVoter(t, nodes, joiner)
	nodes = append(nodes, joiner)
	leader = waitLeader(t, nodes)
	if err := leader.Put(ctx, &storage.Entry{Key: "after-swap", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	syncFollowers(t, leader, nodes)
	for _, nd := range nodes {
		if e, err := nd.Get(ctx, "after-swap"); err != nil || string(e.Value) != "v" {
			t.Fatalf("%s after the swap: %v %v", nd.NodeID(), e, err)
		}
	}
}
