package httpapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"
)

func selfSigned(t testing.TB) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPeerRequest: the cluster port's handler takes the client address and
// certificates a forwarding node sent, and refuses malformed ones.
func TestPeerRequest(t *testing.T) {
	cert := selfSigned(t)
	b64 := base64.StdEncoding.EncodeToString(cert.Raw)
	tests := []struct {
		name, addr, certs string
		wantIP            string
		wantCerts         int
		wantErr           bool
	}{
		{name: "address and chain", addr: "203.0.113.7", certs: b64 + "," + b64, wantIP: "203.0.113.7", wantCerts: 2},
		{name: "ipv6", addr: "2001:db8::1", wantIP: "2001:db8::1"},
		{name: "nothing forwarded", wantIP: "192.0.2.1"},
		{name: "bad address", addr: "not-an-ip", wantErr: true},
		{name: "bad base64", addr: "203.0.113.7", certs: "!!!", wantErr: true},
		{name: "not a certificate", certs: base64.StdEncoding.EncodeToString([]byte("junk")), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/v1/secret/data/a", nil)
			r.RemoteAddr = "192.0.2.1:4321"
			if tt.addr != "" {
				r.Header.Set(headerForwardedFor, tt.addr)
			}
			if tt.certs != "" {
				r.Header.Set(headerForwardedCert, tt.certs)
			}
			out, certs, err := peerRequest(r)
			if tt.wantErr {
				if err == nil {
					t.Fatal("malformed forwarding headers accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := remoteIP(out); got != tt.wantIP {
				t.Errorf("client address %q, want %q", got, tt.wantIP)
			}
			if len(certs) != tt.wantCerts {
				t.Errorf("%d certificates, want %d", len(certs), tt.wantCerts)
			}
		})
	}
}

func FuzzPeerRequest(f *testing.F) {
	f.Add("203.0.113.7", "")
	f.Add("::1", "AAAA")
	f.Add("", "a,b,c")
	f.Fuzz(func(t *testing.T, addr, certs string) {
		r := httptest.NewRequest("GET", "/v1/sys/health", nil)
		r.Header.Set(headerForwardedFor, addr)
		r.Header.Set(headerForwardedCert, certs)
		out, _, err := peerRequest(r)
		if err == nil && out == nil {
			t.Fatal("no request and no error")
		}
	})
}
