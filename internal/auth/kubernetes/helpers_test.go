package kubernetes

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/cofferdev/coffer/internal/logical/logicaltest"
)

// env is a kubernetes backend over inmem storage, called as the core
// calls it.
type env struct {
	*logicaltest.Harness
	t testing.TB
	b *Backend
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
	e := &env{Harness: logicaltest.New(t, "auth/kubernetes/"), t: t}
	b, err := New(e.Config(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Cleanup(context.Background()) })
	e.b, e.Backend = b, b
	return e
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
