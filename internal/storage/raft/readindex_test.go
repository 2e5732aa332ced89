package raft

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"

	"github.com/cofferdev/coffer/internal/storage"
)

// TestReadIndexBatch drives the batcher with a fetch the test releases by
// hand: readers that arrive while a request is in flight share the next
// request, which starts only after they arrived, so N readers cost two
// requests.
func TestReadIndexBatch(t *testing.T) {
	var calls atomic.Uint64
	release := make(chan uint64)
	started := make(chan struct{}, 4)
	q := newReadIndexBatch(context.Background(), 10*time.Second, func(ctx context.Context) (uint64, error) {
		calls.Add(1)
		started <- struct{}{}
		select {
		case idx := <-release:
			return idx, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
	ctx := context.Background()
	first := make(chan uint64)
	go func() {
		idx, _ := q.get(ctx)
		first <- idx
	}()
	<-started // request 1 in flight

	const late = 8
	results := make(chan uint64, late)
	var wg sync.WaitGroup
	for range late {
		wg.Add(1)
		go func() {
			defer wg.Done()
			idx, err := q.get(ctx)
			if err != nil {
				t.Error(err)
			}
			results <- idx
		}()
	}
	waitFor(t, "late readers queue for the next request", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.waiting == late
	})
	release <- 10 // request 1 answers: only the first reader may use it
	if got := <-first; got != 10 {
		t.Fatalf("first reader got %d, want 10", got)
	}
	<-started // request 2, for the late readers
	release <- 20
	wg.Wait()
	close(results)
	for idx := range results {
		if idx != 20 {
			t.Fatalf("a late reader got index %d from a request older than its arrival; want 20", idx)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d requests for %d readers; want 2", n, late+1)
	}
	// Idle again: the next reader starts a fresh request.
	go func() { <-started; release <- 30 }()
	if idx, err := q.get(ctx); err != nil || idx != 30 {
		t.Fatalf("after idling: %d %v; want 30", idx, err)
	}
}

// TestReadIndexBatchCancel: a reader whose context ends stops waiting; the
// shared request goes on for the others.
func TestReadIndexBatchCancel(t *testing.T) {
	release := make(chan struct{})
	q := newReadIndexBatch(context.Background(), 10*time.Second, func(ctx context.Context) (uint64, error) {
		<-release
		return 7, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := q.get(ctx)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled reader: %v", err)
	}
	close(release)
	waitFor(t, "the batch goes idle", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return !q.inflight
	})
	if idx, err := q.get(context.Background()); err != nil || idx != 7 {
		t.Fatalf("%d %v", idx, err)
	}
}

func TestDecodeAnswers(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		body    string
		want    uint64
		wantErr error
	}{
		{"index", http.StatusOK, `{"index":42}`, 42, nil},
		{"zero index", http.StatusOK, `{"index":0}`, 0, ErrRPC},
		{"not JSON", http.StatusOK, `nope`, 0, ErrRPC},
		{"not leader", http.StatusConflict, `{"error":"not the leader"}`, 0, ErrNotLeader},
		{"server error", http.StatusServiceUnavailable, `{"error":"shutting down"}`, 0, ErrRPC},
		{"too large", http.StatusOK, `{"index":1,"x":"` + strings.Repeat("a", maxRPCBody) + `"}`, 0, ErrRPC},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := decodeReadIndex(c.status, strings.NewReader(c.body))
			if got != c.want || !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
				t.Fatalf("got %d, %v; want %d, %v", got, err, c.want, c.wantErr)
			}
		})
	}
	if _, err := decodeStats(http.StatusOK, strings.NewReader(`{"state":"Leader"}`)); !errors.Is(err, ErrRPC) {
		t.Fatalf("stats without a node id: %v", err)
	}
	s, err := decodeStats(http.StatusOK, strings.NewReader(`{"node_id":"n1","applied_index":3,"last_contact_ms":-1}`))
	if err != nil || s.NodeID != "n1" || s.AppliedIndex != 3 || s.LastContactMs != -1 {
		t.Fatalf("stats: %+v %v", s, err)
	}
}

// TestConsistentReadAfterEachWrite: on a follower and on the leader, a
// consistent read right after a write acknowledged by the leader sees it,
// also when barriers (entries the state machine never sees) follow the
// write, so the read index points past the last visible entry.
func TestConsistentReadAfterEachWrite(t *testing.T) {
	_, nodes := testCluster(t, 3)
	leader := waitLeader(t, nodes)
	syncFollowers(t, leader, nodes)
	ctx := context.Background()
	for i := range 40 {
		v := fmt.Sprintf("v%d", i)
		if err := leader.Put(ctx, &storage.Entry{Key: "k", Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			if _, err := leader.Barrier(); err != nil {
				t.Fatal(err)
			}
		}
		for _, nd := range nodes {
			if err := nd.ConsistentRead(ctx); err != nil {
				t.Fatalf("%s: %v", nd.NodeID(), err)
			}
			e, err := nd.Get(ctx, "k")
			if err != nil || string(e.Value) != v {
				t.Fatalf("%s read %v, %v after %s was acknowledged", nd.NodeID(), e, err, v)
			}
		}
	}
}

// TestLastVisible: the highest entry the state machine sees at or below an
// index skips barriers, and its memo answers only for the index it was
// computed for.
func TestLastVisible(t *testing.T) {
	_, nodes := testCluster(t, 1)
	b := waitLeader(t, nodes)
	ctx := context.Background()
	visibleType := func(i uint64) bool {
		var l hraft.Log
		if err := b.logs.GetLog(i, &l); err != nil {
			t.Fatal(err)
		}
		return l.Type == hraft.LogCommand || l.Type == hraft.LogConfiguration
	}
	if err := b.Put(ctx, &storage.Entry{Key: "k", Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Barrier(); err != nil {
		t.Fatal(err)
	}
	barrier := b.raft.LastIndex()
	if visibleType(barrier) {
		t.Fatalf("the last entry (%d) after a barrier is one the state machine sees", barrier)
	}
	first := b.lastVisible(barrier)
	if first == 0 || first >= barrier || !visibleType(first) {
		t.Fatalf("lastVisible(%d) = %d; want the put's index, below the barrier", barrier, first)
	}
	if got := b.lastVisible(barrier); got != first {
		t.Fatalf("lastVisible(%d) from the memo = %d; want %d", barrier, got, first)
	}
	if err := b.Put(ctx, &storage.Entry{Key: "k", Value: []byte("2")}); err != nil {
		t.Fatal(err)
	}
	last := b.raft.LastIndex()
	if got := b.lastVisible(last); got <= barrier || !visibleType(got) {
		t.Fatalf("lastVisible(%d) = %d after a put that followed the barrier at %d", last, got, barrier)
	}
	if got := b.lastVisible(barrier); got != first {
		t.Fatalf("lastVisible(%d) = %d; want %d", barrier, got, first)
	}
	if !b.appliedUpTo(barrier) || b.appliedUpTo(last+1) {
		t.Fatalf("appliedUpTo(%d) = %v, appliedUpTo(%d) = %v; want true, false", barrier, b.appliedUpTo(barrier), last+1, b.appliedUpTo(last+1))
	}
}
