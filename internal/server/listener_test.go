package server_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// TestMutualTLS: with tls_require_and_verify_client_cert, a client without
// a certificate from the configured CA cannot complete a handshake.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	f := servertest.WriteTLSFiles(t, dir)
	cfg := config.DevConfig("127.0.0.1:0")
	l := config.DefaultListener()
	l.Address = "127.0.0.1:0"
	l.TLSCertFile, l.TLSKeyFile = f.CertFile, f.KeyFile
	l.TLSClientCAFile, l.TLSRequireAndVerifyClientCert = f.CAFile, true
	cfg.Listeners = []config.Listener{l}
	in := servertest.Start(t, servertest.Options{Uninitialized: true, Config: cfg})

	pool := x509.NewCertPool()
	ca, _ := os.ReadFile(f.CAFile)
	pool.AppendCertsFromPEM(ca)
	handshake := func(certs []tls.Certificate) error {
		conn, err := tls.Dial("tcp", in.Addr, &tls.Config{RootCAs: pool, Certificates: certs})
		if err != nil {
			return err
		}
		defer conn.Close()
		// TLS 1.3 reports a rejected client certificate on the first read.
		_, err = conn.Write([]byte("GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n"))
		if err == nil {
			_, err = conn.Read(make([]byte, 1))
		}
		return err
	}
	if err := handshake(nil); err == nil {
		t.Fatal("connection without a client certificate succeeded")
	}
	other := servertest.WriteTLSFiles(t, t.TempDir())
	oc, ok := other.ClientCert(t, dir, "stranger")
	sc, err := tls.LoadX509KeyPair(oc, ok)
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake([]tls.Certificate{sc}); err == nil {
		t.Fatal("connection with a certificate from another CA succeeded")
	}
	cc, ck := f.ClientCert(t, dir, "operator")
	good, err := tls.LoadX509KeyPair(cc, ck)
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake([]tls.Certificate{good}); err != nil {
		t.Fatalf("connection with a valid client certificate failed: %v", err)
	}
}
