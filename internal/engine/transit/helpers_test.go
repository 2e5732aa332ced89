package transit

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/logical/logicaltest"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

type env struct {
	t     testing.TB
	s     storage.Backend
	b     *Backend
	clock *logicaltest.Clock
	logs  *logicaltest.LogBuffer
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, s: inmem.New(), clock: logicaltest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		logs: &logicaltest.LogBuffer{}}
	e.b = e.open(-1)
	return e
}

// open builds a backend over the env's storage, as an unseal would.
func (e *env) open(interval time.Duration) *Backend {
	e.t.Helper()
	b, err := New(context.Background(), &logical.BackendConfig{
		Storage: e.s, Logger: slog.New(slog.NewTextHandler(e.logs, nil)), MountPath: "transit/",
	}, Options{Now: e.clock.Now, RotateCheckInterval: interval, WrappingKeyBits: 2048})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { b.Cleanup(context.Background()) })
	return b
}

func (e *env) req(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return e.b.HandleRequest(context.Background(), &logical.Request{Operation: op, Path: path, Data: data, Storage: e.s})
}

// write does an update and fails the test on error.
func (e *env) write(path string, data map[string]any) map[string]any {
	e.t.Helper()
	resp, err := e.req(logical.UpdateOperation, path, data)
	if err != nil {
		e.t.Fatalf("write %s: %v", path, err)
	}
	if resp == nil {
		return nil
	}
	return resp.Data
}

func (e *env) read(path string) map[string]any {
	e.t.Helper()
	resp, err := e.req(logical.ReadOperation, path, nil)
	if err != nil || resp == nil {
		e.t.Fatalf("read %s: %v, %v", path, resp, err)
	}
	return resp.Data
}

// fails does an update expecting an invalid-request error containing want.
func (e *env) fails(path string, data map[string]any, want string) {
	e.t.Helper()
	_, err := e.req(logical.UpdateOperation, path, data)
	if logical.KindOf(err) != logical.KindInvalidRequest || !bytes.Contains([]byte(err.Error()), []byte(want)) {
		e.t.Fatalf("write %s: err %v; want an invalid request containing %q", path, err, want)
	}
}

func (e *env) encrypt(key, plaintext string, extra map[string]any) string {
	e.t.Helper()
	data := map[string]any{"plaintext": b64(plaintext)}
	for k, v := range extra {
		data[k] = v
	}
	return e.write("encrypt/"+key, data)["ciphertext"].(string)
}

func (e *env) decrypt(key, ct string, extra map[string]any) string {
	e.t.Helper()
	data := map[string]any{"ciphertext": ct}
	for k, v := range extra {
		data[k] = v
	}
	return unb64(e.t, e.write("decrypt/"+key, data)["plaintext"].(string))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func unb64(t testing.TB, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("bad base64 %q", s)
	}
	return string(b)
}
