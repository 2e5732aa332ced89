package cert

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// testBackend is a cert backend over in-memory storage.
type testBackend struct {
	b *Backend
	s storage.Backend
}

func newTestBackend(t testing.TB, now func() time.Time) *testBackend {
	t.Helper()
	s := inmem.New()
	b, err := New(context.Background(), &logical.BackendConfig{Storage: s, MountPath: "auth/cert/"}, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return &testBackend{b: b, s: s}
}

// do sends a request to the backend as the core would.
func (tb *testBackend) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return tb.b.HandleRequest(context.Background(), &logical.Request{
		Operation: op, Path: path, Data: data, Storage: tb.s, MountPoint: "auth/cert/"})
}

// mustWrite writes data at path and fails the test on error.
func (tb *testBackend) mustWrite(t testing.TB, path string, data map[string]any) *logical.Response {
	t.Helper()
	resp, err := tb.do(logical.UpdateOperation, path, data)
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return resp
}

// login logs in with the given presented chain (leaf first) from remote.
func (tb *testBackend) login(name, remote string, chain ...*x509.Certificate) (*logical.Response, error) {
	req := &logical.Request{Operation: logical.UpdateOperation, Path: "login", Storage: tb.s,
		MountPoint: "auth/cert/", RemoteAddr: remote, Data: map[string]any{}}
	if name != "" {
		req.Data["name"] = name
	}
	if chain != nil {
		req.Connection = &logical.Connection{PeerCertificates: chain}
	}
	return tb.b.HandleRequest(context.Background(), req)
}

// isRefusal reports whether err is the fixed login refusal.
func isRefusal(err error) bool {
	return errors.Is(err, ErrInvalidCertificate) && err.Error() == ErrInvalidCertificate.Msg &&
		logical.KindOf(err) == logical.KindInvalidRequest && errors.Is(err, logical.ErrPermissionDenied)
}
