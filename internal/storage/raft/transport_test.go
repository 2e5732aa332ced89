package raft

import (
	"errors"
	"sync"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"
)

// stuckPipeline blocks AppendEntries until Close, as hashicorp/raft's
// netPipeline does when its requests in flight are never answered.
type stuckPipeline struct {
	once   sync.Once
	closed chan struct{}
}

func (p *stuckPipeline) AppendEntries(*hraft.AppendEntriesRequest, *hraft.AppendEntriesResponse) (hraft.AppendFuture, error) {
	<-p.closed
	return nil, hraft.ErrPipelineShutdown
}

func (p *stuckPipeline) Consumer() <-chan hraft.AppendFuture { return nil }

func (p *stuckPipeline) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

// TestGuardedPipelineEndsAStuckSend: a send still waiting after the
// timeout closes the pipeline and returns its error, instead of blocking
// raft's replication (and Shutdown) for good.
func TestGuardedPipelineEndsAStuckSend(t *testing.T) {
	inner := &stuckPipeline{closed: make(chan struct{})}
	p := guardedPipeline{AppendPipeline: inner, timeout: 10 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		_, err := p.AppendEntries(&hraft.AppendEntriesRequest{}, &hraft.AppendEntriesResponse{})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, hraft.ErrPipelineShutdown) {
			t.Fatalf("stuck send ended with %v, want the pipeline's shutdown error", err)
		}
	case <-t.Context().Done():
		t.Fatal("the stuck send was never ended")
	}
	select {
	case <-inner.closed:
	default:
		t.Fatal("the pipeline was not closed")
	}
}
