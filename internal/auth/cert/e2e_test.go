package cert_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/auth/cert"
	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/core"
	"github.com/cofferdev/coffer/internal/server"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// tlsServer is a running server with a TLS listener that requests (but does
// not verify) client certificates, initialised and unsealed.
type tlsServer struct {
	in     *servertest.Instance
	url    string
	caFile string
	root   string
	dir    string
}

func startTLSServer(t *testing.T) *tlsServer {
	t.Helper()
	dir := t.TempDir()
	f := servertest.WriteTLSFiles(t, dir)
	cfg := config.DevConfig("127.0.0.1:0")
	l := config.DefaultListener()
	l.Address = "127.0.0.1:0"
	l.TLSCertFile, l.TLSKeyFile = f.CertFile, f.KeyFile
	cfg.Listeners = []config.Listener{l}
	in := servertest.Start(t, servertest.Options{Uninitialized: true, Config: cfg})
	ctx := context.Background()
	res, err := in.Server.Core.Initialize(ctx, core.InitParams{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Server.Core.Unseal(ctx, res.Keys[0]); err != nil {
		t.Fatal(err)
	}
	return &tlsServer{in: in, url: "https://" + in.Addr, caFile: f.CAFile, root: res.RootToken, dir: dir}
}

// client returns a Vault client that trusts the server's CA and presents
// the given leaf (followed by chain) when one is given.
func (s *tlsServer) client(t *testing.T, token string, leaf *cert.TestLeaf, chain ...*cert.TestCA) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address, cfg.MaxRetries = s.url, 0
	tc := &vaultapi.TLSConfig{CACert: s.caFile}
	if leaf != nil {
		pemText := leaf.PEM
		for _, c := range chain {
			pemText += c.PEM
		}
		base := filepath.Join(s.dir, leaf.Cert.SerialNumber.String())
		tc.ClientCert, tc.ClientKey = base+".crt", base+".key"
		for path, text := range map[string]string{tc.ClientCert: pemText, tc.ClientKey: leaf.KeyPEM(t)} {
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := cfg.ConfigureTLS(tc); err != nil {
		t.Fatal(err)
	}
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken(token)
	return c
}

// certFixture is a TLS server with the cert method mounted at auth/cert,
// trusting rootCA for CNs "*.svc" with a CRL revoking revoked.
type certFixture struct {
	s                  *tlsServer
	rootCA, inter      *cert.TestCA
	good, viaInter     *cert.TestLeaf
	revoked, stranger  *cert.TestLeaf
	expired, wrongName *cert.TestLeaf
}

func newCertFixture(t *testing.T) *certFixture {
	t.Helper()
	if _, ok := server.AuthFactories()[cert.Type]; !ok {
		t.Fatal(`server.AuthFactories() has no "cert" entry: register cert.Factory`)
	}
	f := &certFixture{s: startTLSServer(t), rootCA: cert.NewTestCA(t, "clients root")}
	f.inter = f.rootCA.Intermediate(t, "clients intermediate")
	f.good = f.rootCA.Leaf(t, cert.LeafOpts{CN: "app.svc"})
	f.viaInter = f.inter.Leaf(t, cert.LeafOpts{CN: "worker.svc"})
	f.revoked = f.rootCA.Leaf(t, cert.LeafOpts{CN: "revoked.svc"})
	f.stranger = cert.NewTestCA(t, "other root").Leaf(t, cert.LeafOpts{CN: "app.svc"})
	f.expired = f.rootCA.Leaf(t, cert.LeafOpts{CN: "old.svc", NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	f.wrongName = f.rootCA.Leaf(t, cert.LeafOpts{CN: "intruder.example.com"})

	admin := f.s.client(t, f.s.root, f.good) // an admin request may carry a client certificate too
	if err := admin.Sys().EnableAuthWithOptions("cert", &vaultapi.EnableAuthOptions{Type: cert.Type}); err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string]map[string]any{
		"auth/cert/certs/web": {"certificate": f.rootCA.PEM, "allowed_common_names": "*.svc",
			"token_policies": "web", "token_ttl": "10m"},
		"auth/cert/crls/main": {"crl": f.rootCA.CRL(t, f.revoked.Cert)},
	} {
		if _, err := admin.Logical().Write(path, data); err != nil {
			t.Fatalf("write %s: %v", path, err)
		}
	}
	return f
}

// TestVaultClientCertLogin: the official Vault client logs in over a real
// TLS listener with a client certificate, and the token works.
func TestVaultClientCertLogin(t *testing.T) {
	f := newCertFixture(t)
	for _, tt := range []struct {
		name  string
		leaf  *cert.TestLeaf
		chain []*cert.TestCA
		cn    string
	}{
		{"leaf of the trusted CA", f.good, nil, "app.svc"},
		{"leaf via an intermediate", f.viaInter, []*cert.TestCA{f.inter}, "worker.svc"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			secret, err := f.s.client(t, "", tt.leaf, tt.chain...).Logical().Write("auth/cert/login", nil)
			if err != nil || secret == nil || secret.Auth == nil {
				t.Fatalf("login = %v, %v", secret, err)
			}
			a := secret.Auth
			if !strings.HasPrefix(a.ClientToken, "hvs.") || !slices.Contains(a.Policies, "web") || a.LeaseDuration != 600 ||
				a.Metadata["common_name"] != tt.cn || a.Metadata["cert_name"] != "web" ||
				a.Metadata["serial_number"] != tt.leaf.Cert.SerialNumber.String() {
				t.Fatalf("auth = %+v", a)
			}
			self, err := f.s.client(t, a.ClientToken, nil).Auth().Token().LookupSelf()
			if err != nil {
				t.Fatal(err)
			}
			if self.Data["display_name"] != "cert-web" {
				t.Errorf("display_name = %v, want cert-web", self.Data["display_name"])
			}
			f.s.in.CheckNoLeaks(t, a.ClientToken)
		})
	}
}

// TestVaultClientCertLoginRefused: every refused login over real TLS is a
// 400 with Vault's fixed message.
func TestVaultClientCertLoginRefused(t *testing.T) {
	f := newCertFixture(t)
	for _, tt := range []struct {
		name string
		leaf *cert.TestLeaf
	}{
		{"no client certificate", nil},
		{"leaf of another CA", f.stranger},
		{"expired leaf", f.expired},
		{"common name not allowed", f.wrongName},
		{"revoked leaf", f.revoked},
	} {
		t.Run(tt.name, func(t *testing.T) {
			secret, err := f.s.client(t, "", tt.leaf).Logical().Write("auth/cert/login", nil)
			var re *vaultapi.ResponseError
			if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest ||
				!slices.Equal(re.Errors, []string{"invalid certificate or no client certificate supplied"}) {
				t.Fatalf("login = %v, %v; want 400 with the fixed message", secret, err)
			}
		})
	}
}

// TestVaultClientCertRenewBinding: over real TLS, a certificate login's
// token renews (renew-self, and renew of it by the root token) only on a
// connection presenting the login's certificate, unless disable_binding
// is set.
func TestVaultClientCertRenewBinding(t *testing.T) {
	f := newCertFixture(t)
	secret, err := f.s.client(t, "", f.good).Logical().Write("auth/cert/login", nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := secret.Auth.ClientToken
	forbidden := func(what string, err error) {
		t.Helper()
		var re *vaultapi.ResponseError
		if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden || !strings.Contains(strings.Join(re.Errors, " "), "client certificate") {
			t.Fatalf("%s: %v; want 403 naming the client certificate", what, err)
		}
	}
	if s, err := f.s.client(t, tok, f.good).Auth().Token().RenewSelf(300); err != nil || s.Auth.LeaseDuration != 300 {
		t.Fatalf("renew-self presenting the login's certificate = %v, %v", s, err)
	}
	_, err = f.s.client(t, tok, nil).Auth().Token().RenewSelf(300)
	forbidden("renew-self without a certificate", err)
	_, err = f.s.client(t, tok, f.viaInter, f.inter).Auth().Token().RenewSelf(300)
	forbidden("renew-self with another trusted certificate", err)
	_, err = f.s.client(t, f.s.root, nil).Auth().Token().Renew(tok, 300)
	forbidden("renew by the root token without a certificate", err)

	admin := f.s.client(t, f.s.root, nil)
	if _, err := admin.Logical().Write("auth/cert/config", map[string]any{"disable_binding": true}); err != nil {
		t.Fatal(err)
	}
	if s, err := f.s.client(t, tok, nil).Auth().Token().RenewSelf(300); err != nil || s.Auth.LeaseDuration != 300 {
		t.Fatalf("renew-self without a certificate, disable_binding set = %v, %v", s, err)
	}
}
