package userpass

import (
	"context"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical/logicaltest"
	"github.com/cofferdev/coffer/internal/storage"
)

// env is a userpass backend driven as the core drives it.
type env struct {
	*logicaltest.Harness
	b *Backend
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{Harness: logicaltest.New(t, "auth/userpass/")}
	b, err := New(e.Config())
	if err != nil {
		t.Fatal(err)
	}
	e.b, e.Backend = b, b
	return e
}

// slowStorage delays every Get after reading, to widen the window between a
// read and the write that follows it in concurrency tests.
type slowStorage struct{ storage.Backend }

func (s slowStorage) Get(ctx context.Context, key string) (*storage.Entry, error) {
	e, err := s.Backend.Get(ctx, key)
	time.Sleep(time.Millisecond)
	return e, err
}
