package cert

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// TestRenewalChecksTheEntry: a token from a certificate login renews only
// while its certificate entry exists with the token's policies, on the
// entry's TTLs.
func TestRenewalChecksTheEntry(t *testing.T) {
	tb := newTestBackend(t, time.Now)
	root := NewTestCA(t, "root")
	leaf := root.Leaf(t, LeafOpts{CN: "alice"})
	write := func(policies string) {
		tb.mustWrite(t, "certs/web", map[string]any{"certificate": root.PEM, "token_policies": policies,
			"token_ttl": "10m", "token_max_ttl": "1h"})
	}
	write("web,read")
	resp, err := tb.login("web", "127.0.0.1", leaf.Cert)
	if err != nil {
		t.Fatal(err)
	}
	tb.RenewConnection = &logical.Connection{PeerCertificates: []*x509.Certificate{leaf.Cert}}
	tb.CheckRenewal(t, resp.Auth, func(policies []string) { write(strings.Join(policies, ",")) }, func() {
		if _, err := tb.Do(logical.DeleteOperation, "certs/web", nil); err != nil {
			t.Fatal(err)
		}
	}, "web")
}

// TestRenewalBinding: unless disable_binding is set, a token from a
// certificate login renews only over a connection presenting that
// certificate (or one for the same subject key) that the entry still
// trusts.
func TestRenewalBinding(t *testing.T) {
	tb := newTestBackend(t, time.Now)
	root := NewTestCA(t, "root")
	other := NewTestCA(t, "other")
	leaf := root.Leaf(t, LeafOpts{CN: "alice", SubjectKeyID: []byte{1, 2, 3, 4}})
	tb.mustWrite(t, "certs/web", map[string]any{"certificate": root.PEM, "token_policies": "web", "token_ttl": "10m"})
	tb.mustWrite(t, "certs/other", map[string]any{"certificate": other.PEM, "token_policies": "web"})
	resp, err := tb.login("web", "127.0.0.1", leaf.Cert)
	if err != nil {
		t.Fatal(err)
	}
	token := &logical.Auth{Metadata: resp.Auth.Metadata, Policies: []string{"web", "default"}, TokenPolicies: []string{"web", "default"}}
	renew := func(chain ...*x509.Certificate) error {
		req := &logical.Request{Operation: logical.UpdateOperation, Path: "login", Storage: tb.Storage, MountPoint: "auth/cert/"}
		if chain != nil {
			req.Connection = &logical.Connection{PeerCertificates: chain}
		}
		a, err := tb.b.RenewAuth(context.Background(), req, token)
		if err == nil && a.TTL != 10*time.Minute {
			t.Fatalf("renewal TTL %v; want the entry's 10m", a.TTL)
		}
		return err
	}
	refused := func(what, message string, err error) {
		t.Helper()
		if logical.KindOf(err) != logical.KindPermissionDenied || !strings.Contains(err.Error(), message) {
			t.Fatalf("renewal %s: %v; want permission denied saying %q", what, err, message)
		}
	}
	if err := renew(leaf.Cert); err != nil {
		t.Fatalf("renewal with the login's certificate: %v", err)
	}
	if err := renew(root.Leaf(t, LeafOpts{CN: "alice", SubjectKeyID: []byte{1, 2, 3, 4}}).Cert); err != nil {
		t.Fatalf("renewal with a certificate re-issued for the same subject key: %v", err)
	}
	refused("without a certificate", "needs the same client certificate", renew())
	refused("with another certificate of the same CA", "not the one this token logged in with",
		renew(root.Leaf(t, LeafOpts{CN: "alice"}).Cert))
	refused("with a certificate the entry does not trust", `not trusted by the certificate entry "web"`,
		renew(other.Leaf(t, LeafOpts{CN: "alice", SubjectKeyID: []byte{1, 2, 3, 4}}).Cert))
	tb.mustWrite(t, "crls/main", map[string]any{"crl": root.CRL(t, leaf.Cert)})
	refused("with a revoked certificate", "not trusted", renew(leaf.Cert))

	tb.mustWrite(t, "config", map[string]any{"disable_binding": true})
	if err := renew(); err != nil {
		t.Fatalf("renewal without a certificate, disable_binding set: %v", err)
	}
}
