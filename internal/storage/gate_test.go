package storage_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
	"github.com/cofferdev/coffer/internal/storage/storagetest"
)

func TestGateConformance(t *testing.T) {
	storagetest.Run(t, func(testing.TB) storage.Backend { return storage.NewGate(inmem.New()) })
}

func TestGateRefusesWritesOnceClosed(t *testing.T) {
	ctx := context.Background()
	g := storage.NewGate(inmem.New())
	if err := g.Put(ctx, &storage.Entry{Key: "a", Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	closed := errors.New("upgrading")
	g.Close(closed)
	for name, err := range map[string]error{
		"put":         g.Put(ctx, &storage.Entry{Key: "b", Value: []byte("2")}),
		"delete":      g.Delete(ctx, "a"),
		"transaction": g.Transaction(ctx, []storage.TxnOp{{Kind: storage.OpDelete, Entry: storage.Entry{Key: "a"}}}),
	} {
		if !errors.Is(err, closed) {
			t.Errorf("%s on a closed gate: %v; want the close error", name, err)
		}
	}
	if e, err := g.Get(ctx, "a"); err != nil || string(e.Value) != "1" {
		t.Fatalf("read through a closed gate: %v, %v", e, err)
	}
	if keys, err := g.List(ctx, ""); err != nil || len(keys) != 1 {
		t.Fatalf("list through a closed gate: %v, %v", keys, err)
	}
	g.Open()
	if err := g.Put(ctx, &storage.Entry{Key: "b", Value: []byte("2")}); err != nil {
		t.Fatalf("put after Open: %v", err)
	}
}

// slowBackend holds every Put until release is closed.
type slowBackend struct {
	storage.Backend
	started chan struct{}
	release chan struct{}
}

func (s *slowBackend) Put(ctx context.Context, e *storage.Entry) error {
	close(s.started)
	<-s.release
	return s.Backend.Put(ctx, e)
}

func TestGateCloseWaitsForWritesUnderWay(t *testing.T) {
	ctx := context.Background()
	inner := &slowBackend{Backend: inmem.New(), started: make(chan struct{}), release: make(chan struct{})}
	g := storage.NewGate(inner)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := g.Put(ctx, &storage.Entry{Key: "k", Value: []byte("v")}); err != nil {
			t.Errorf("the write under way failed: %v", err)
		}
	}()
	<-inner.started
	closedAt := make(chan struct{})
	go func() {
		g.Close(errors.New("closed"))
		close(closedAt)
	}()
	select {
	case <-closedAt:
		t.Fatal("Close returned while a write was under way")
	case <-time.After(50 * time.Millisecond):
	}
	close(inner.release)
	<-closedAt
	wg.Wait()
	if _, err := inner.Backend.Get(ctx, "k"); err != nil {
		t.Fatalf("the write under way was lost: %v", err)
	}
}
