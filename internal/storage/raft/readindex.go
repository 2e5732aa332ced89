package raft

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ReadIndex (leader only) returns the index a reader must have applied for
// its next local read to be linearizable: it notes the commit index, then
// confirms with a quorum that this node still leads (so no newer leader can
// have acknowledged writes it lacks).
//
// A new leader may not yet know the commit index of entries its
// predecessor committed, so the first call of each term first commits a
// barrier entry of that term (Raft §8).
func (b *Backend) ReadIndex(ctx context.Context) (uint64, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	if term := b.raft.CurrentTerm(); b.readTerm.Load() != term {
		if err := b.leaderErr(b.raft.Barrier(b.timeout).Error()); err != nil {
			return 0, err
		}
		b.readTerm.Store(term)
	}
	idx := b.raft.CommitIndex()
	if err := b.leaderErr(b.raft.VerifyLeader().Error()); err != nil {
		return 0, err
	}
	return idx, nil
}

// LinearizableRead (leader only) makes the next local read linearizable:
// it takes the read index (ReadIndex) and waits until it is applied here.
func (b *Backend) LinearizableRead(ctx context.Context) error {
	idx, err := b.ReadIndex(ctx)
	if err != nil {
		return err
	}
	return b.WaitApplied(ctx, idx)
}

// ConsistentRead makes the next local read on any node linearizable. The
// leader takes a read index (confirming with a quorum that it still leads,
// so a deposed leader that has not noticed yet never answers from stale
// state); a follower asks the leader for its read index over the cluster
// port. Either then waits until it has applied that index. Concurrent
// callers share the rounds: at most one is in flight, and callers arriving
// meanwhile wait for the next one.
func (b *Backend) ConsistentRead(ctx context.Context) error {
	if b.IsLeader() {
		idx, err := b.leaderRead.get(ctx)
		if err == nil {
			return b.WaitApplied(ctx, idx)
		}
		if !errors.Is(err, ErrNotLeader) {
			return err
		}
		// Leadership moved: ask the new leader.
	}
	idx, err := b.readIndex.get(ctx)
	if err != nil {
		return fmt.Errorf("storage: raft: consistent read: %w", err)
	}
	return b.WaitApplied(ctx, idx)
}

// readIndexBatch shares read-index requests between concurrent readers.
// A reader must get an index taken after it arrived, so one that arrives
// while a request is in flight waits for the next request, which starts
// when the current one ends and serves every reader that arrived meanwhile.
type readIndexBatch struct {
	fetch   func(context.Context) (uint64, error)
	ctx     context.Context // ends when the node closes
	timeout time.Duration

	mu       sync.Mutex
	inflight bool
	next     *readIndexCall
	waiting  int // readers waiting for next
}

type readIndexCall struct {
	done  chan struct{}
	index uint64
	err   error
}

func newReadIndexBatch(ctx context.Context, timeout time.Duration, fetch func(context.Context) (uint64, error)) *readIndexBatch {
	return &readIndexBatch{fetch: fetch, ctx: ctx, timeout: timeout}
}

// get returns a read index taken after the call began.
func (q *readIndexBatch) get(ctx context.Context) (uint64, error) {
	q.mu.Lock()
	var c *readIndexCall
	if !q.inflight {
		q.inflight = true
		c = &readIndexCall{done: make(chan struct{})}
		go q.run(c)
	} else {
		if q.next == nil {
			q.next = &readIndexCall{done: make(chan struct{})}
		}
		c = q.next
		q.waiting++
	}
	q.mu.Unlock()
	select {
	case <-c.done:
		return c.index, c.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// run performs c, then the next call if readers joined one meanwhile. The
// requests do not depend on any one reader's context, since many share
// them.
func (q *readIndexBatch) run(c *readIndexCall) {
	for c != nil {
		ctx, cancel := context.WithTimeout(q.ctx, q.timeout)
		c.index, c.err = q.fetch(ctx)
		cancel()
		close(c.done)
		q.mu.Lock()
		c, q.next, q.waiting = q.next, nil, 0
		q.inflight = c != nil
		q.mu.Unlock()
	}
}
