package userpass

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	t    testing.TB
	s    storage.Backend
	b    *Backend
	logs *syncBuf
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, s: inmem.New(), logs: &syncBuf{}}
	b, err := New(&logical.BackendConfig{
		Storage: e.s, MountPath: "auth/userpass/",
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.b = b
	return e
}

// do sends a request as the core would, choosing create or update for
// writes by the backend's existence check.
func (e *env) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return e.doFrom("127.0.0.1", op, path, data)
}

func (e *env) doFrom(addr string, op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	e.t.Helper()
	ctx := context.Background()
	req := &logical.Request{Operation: op, Path: path, Data: data, Storage: e.s,
		MountPoint: "auth/userpass/", RemoteAddr: addr}
	if op == logical.UpdateOperation {
		checked, exists, err := e.b.Exists(ctx, req)
		if err != nil {
			return nil, err
		}
		if checked && !exists {
			req.Operation = logical.CreateOperation
		}
	}
	return e.b.HandleRequest(ctx, req)
}

// must fails the test on an error.
func (e *env) must(op logical.Operation, path string, data map[string]any) *logical.Response {
	e.t.Helper()
	resp, err := e.do(op, path, data)
	if err != nil {
		e.t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

// slowStorage delays every Get after reading, to widen the window between a
// read and the write that follows it in concurrency tests.
type slowStorage struct{ storage.Backend }

func (s slowStorage) Get(ctx context.Context, key string) (*storage.Entry, error) {
	e, err := s.Backend.Get(ctx, key)
	time.Sleep(time.Millisecond)
	return e, err
}
