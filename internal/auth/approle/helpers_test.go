package approle

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

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

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
	t     testing.TB
	s     storage.Backend
	b     *Backend
	clock *fakeClock
	logs  *syncBuf
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, s: inmem.New(), clock: &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, logs: &syncBuf{}}
	e.b = e.open()
	return e
}

// open builds a backend over the env's storage, as an unseal would.
func (e *env) open() *Backend {
	e.t.Helper()
	b, err := New(&logical.BackendConfig{
		Storage: e.s, MountPath: "auth/approle/",
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, Options{Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// do sends a request from 127.0.0.1 as the core would.
func (e *env) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return e.doFrom("127.0.0.1", op, path, data)
}

// doFrom sends a request from addr, choosing create or update for writes
// by the backend's existence check, as the core does.
func (e *env) doFrom(addr string, op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	ctx := context.Background()
	req := &logical.Request{Operation: op, Path: path, Data: data, Storage: e.s,
		MountPoint: "auth/approle/", RemoteAddr: addr}
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

// roleID reads a role's role ID.
func (e *env) roleID(name string) string {
	e.t.Helper()
	return e.must(logical.ReadOperation, "role/"+name+"/role-id", nil).Data["role_id"].(string)
}

// secretID generates a secret ID for a role and returns it and its accessor.
func (e *env) secretID(name string, data map[string]any) (string, string) {
	e.t.Helper()
	resp := e.must(logical.UpdateOperation, "role/"+name+"/secret-id", data)
	return resp.Data["secret_id"].(string), resp.Data["secret_id_accessor"].(string)
}

// login logs in from addr.
func (e *env) login(addr, roleID, secret string) (*logical.Response, error) {
	data := map[string]any{"role_id": roleID}
	if secret != "" {
		data["secret_id"] = secret
	}
	return e.doFrom(addr, logical.UpdateOperation, "login", data)
}

// slowStorage delays every Get after reading, to widen the window between a
// read and the write that follows it in concurrency tests.
type slowStorage struct{ storage.Backend }

func (s slowStorage) Get(ctx context.Context, key string) (*storage.Entry, error) {
	e, err := s.Backend.Get(ctx, key)
	time.Sleep(time.Millisecond)
	return e, err
}
