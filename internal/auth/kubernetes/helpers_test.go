package kubernetes

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/cofferdev/coffer/internal/logical"
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

// env is a backend over inmem storage, called as the core calls it.
type env struct {
	t    testing.TB
	b    *Backend
	logs *syncBuf
	s    *inmem.Backend
}

// newEnv builds a backend whose in-pod files are absent unless opts name
// them.
func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	dir := t.TempDir()
	if opts.LocalCACertPath == "" {
		opts.LocalCACertPath = filepath.Join(dir, "absent-ca.crt")
	}
	if opts.LocalJWTPath == "" {
		opts.LocalJWTPath = filepath.Join(dir, "absent-token")
	}
	e := &env{t: t, logs: &syncBuf{}, s: inmem.New()}
	b, err := New(&logical.BackendConfig{
		Storage: e.s, MountPath: "auth/kubernetes/",
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Cleanup(context.Background()) })
	e.b = b
	return e
}

// do sends a request from 127.0.0.1, choosing create or update for writes
// by the backend's existence check as the core does.
func (e *env) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return e.doFrom("127.0.0.1", op, path, data)
}

func (e *env) doFrom(addr string, op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	req := &logical.Request{Operation: op, Path: path, Data: data, Storage: e.s, RemoteAddr: addr,
		MountPoint: "auth/kubernetes/"}
	if op == logical.UpdateOperation {
		checked, exists, err := e.b.Exists(context.Background(), req)
		if err != nil {
			return nil, err
		}
		if checked && !exists {
			req.Operation = logical.CreateOperation
		}
	}
	return e.b.HandleRequest(context.Background(), req)
}

// must is do that fails the test on error.
func (e *env) must(op logical.Operation, path string, data map[string]any) *logical.Response {
	e.t.Helper()
	resp, err := e.do(op, path, data)
	if err != nil {
		e.t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

// signer signs test tokens with a fresh P-256 key.
type signer struct {
	key    *ecdsa.PrivateKey
	pubPEM string
}

func newSigner(t testing.TB) *signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{key: key, pubPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
}

// sign returns an ES256 JWT of claims.
func (s *signer) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: s.key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// projectedClaims are the claims of a TokenRequest token.
func projectedClaims(ns, name, uid string, aud ...string) map[string]any {
	now := time.Now().Unix()
	return map[string]any{
		"iss": "https://kubernetes.default.svc.cluster.local", "sub": "system:serviceaccount:" + ns + ":" + name,
		"aud": aud, "exp": now + 3600, "iat": now, "nbf": now,
		"kubernetes.io": map[string]any{"namespace": ns, "serviceaccount": map[string]any{"name": name, "uid": uid}},
	}
}
