package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/config"
)

// TestTLSConfigClientAuth: without a client CA the listener requests a
// client certificate without verifying it; with one it keeps verifying.
func TestTLSConfigClientAuth(t *testing.T) {
	f := writeTestPKI(t, t.TempDir())
	certs, err := newCertReloader(f.CertFile, f.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		caFile   string
		require  bool
		wantAuth tls.ClientAuthType
		wantCAs  bool
		wantErr  string
	}{
		{name: "no client CA requests a certificate", wantAuth: tls.RequestClientCert},
		{name: "client CA verifies a given certificate", caFile: f.CAFile, wantAuth: tls.VerifyClientCertIfGiven, wantCAs: true},
		{name: "client CA and require", caFile: f.CAFile, require: true, wantAuth: tls.RequireAndVerifyClientCert, wantCAs: true},
		{name: "require without a CA fails", require: true, wantErr: "needs tls_client_ca_file"},
		{name: "missing CA file fails", caFile: f.KeyFile + ".missing", wantErr: "read tls_client_ca_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lc := config.DefaultListener()
			lc.TLSClientCAFile, lc.TLSRequireAndVerifyClientCert = tt.caFile, tt.require
			tc, err := tlsConfig(lc, certs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.ClientAuth != tt.wantAuth {
				t.Errorf("ClientAuth = %v, want %v", tc.ClientAuth, tt.wantAuth)
			}
			if (tc.ClientCAs != nil) != tt.wantCAs {
				t.Errorf("ClientCAs set = %v, want %v", tc.ClientCAs != nil, tt.wantCAs)
			}
		})
	}
}

// TestTLSConfigPassesUnverifiedClientCert: a listener without a client CA
// completes handshakes with and without a client certificate from any CA,
// and hands the presented certificate to the HTTP layer.
func TestTLSConfigPassesUnverifiedClientCert(t *testing.T) {
	dir := t.TempDir()
	f := writeTestPKI(t, dir)
	certs, err := newCertReloader(f.CertFile, f.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := tlsConfig(config.DefaultListener(), certs)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) > 0 {
			_, _ = w.Write([]byte(r.TLS.PeerCertificates[0].Subject.CommonName))
		}
	})}
	go func() { _ = srv.Serve(tls.NewListener(ln, tc)) }()
	defer srv.Close()
	url := "https://" + ln.Addr().String()

	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(f.CAFile)
	if err != nil || !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("read CA: %v", err)
	}
	other := writeTestPKI(t, t.TempDir())
	stranger := other.clientCert(t, "stranger")
	for _, tt := range []struct {
		name  string
		certs []tls.Certificate
		want  string
	}{
		{"no client certificate", nil, ""},
		{"certificate of an unknown CA", []tls.Certificate{stranger}, "stranger"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: tt.certs}}}
			defer client.CloseIdleConnections()
			resp, err := client.Get(url)
			if err != nil {
				t.Fatalf("request failed: %v", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tt.want {
				t.Errorf("server saw client certificate %q, want %q", body, tt.want)
			}
		})
	}
}

// testPKI is a throwaway CA with a server certificate for 127.0.0.1 in
// files. (servertest has the same helper, but this package's internal
// tests cannot import it: servertest imports this package.)
type testPKI struct {
	CAFile, CertFile, KeyFile string
	ca                        *x509.Certificate
	caKey                     *ecdsa.PrivateKey
}

func writeTestPKI(t *testing.T, dir string) *testPKI {
	t.Helper()
	caKey := newTestKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "server.crt"),
		KeyFile: filepath.Join(dir, "server.key"), ca: ca, caKey: caKey}
	writeTestPEM(t, p.CAFile, "CERTIFICATE", der)
	srv := p.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "127.0.0.1"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}})
	writeTestPEM(t, p.CertFile, "CERTIFICATE", srv.Certificate[0])
	kb, err := x509.MarshalECPrivateKey(srv.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	writeTestPEM(t, p.KeyFile, "EC PRIVATE KEY", kb)
	return p
}

// issue signs tmpl (given a serial, validity and key usage here) with the CA.
func (p *testPKI) issue(t *testing.T, tmpl *x509.Certificate) tls.Certificate {
	t.Helper()
	key := newTestKey(t)
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func (p *testPKI) clientCert(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	return p.issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: cn},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

func newTestKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writeTestPEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
