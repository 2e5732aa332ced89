package cert

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/logical/logicaltest"
)

// testBackend is a cert backend over in-memory storage, driven as the core
// drives it.
type testBackend struct {
	*logicaltest.Harness
	b *Backend
}

func newTestBackend(t testing.TB, now func() time.Time) *testBackend {
	t.Helper()
	tb := &testBackend{Harness: logicaltest.New(t, "auth/cert/")}
	b, err := New(context.Background(), tb.Config(), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	tb.b, tb.Backend = b, b
	return tb
}

// mustWrite writes data at path and fails the test on error.
func (tb *testBackend) mustWrite(t testing.TB, path string, data map[string]any) *logical.Response {
	t.Helper()
	resp, err := tb.Do(logical.UpdateOperation, path, data)
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return resp
}

// login logs in with the given presented chain (leaf first) from remote.
func (tb *testBackend) login(name, remote string, chain ...*x509.Certificate) (*logical.Response, error) {
	req := &logical.Request{Operation: logical.UpdateOperation, Path: "login", Storage: tb.Storage,
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
