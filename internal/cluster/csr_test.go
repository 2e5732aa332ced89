package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSignCSR(t *testing.T) {
	ca := newTestCA(t)
	csr, keyPEM, err := NewCSR("node-2")
	if err != nil {
		t.Fatal(err)
	}
	ips := []net.IP{net.ParseIP("10.0.0.2"), net.ParseIP("::1")}
	certPEM, err := SignCSR(ca, csr, "node-2", ips)
	if err != nil {
		t.Fatal(err)
	}
	f := NodeFiles{CACertPEM: ca.CertPEM, CertPEM: certPEM, KeyPEM: keyPEM}
	if err := f.Check(); err != nil {
		t.Fatalf("the issued certificate does not go with its key and CA: %v", err)
	}
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("verify for usage %v: %v", usage, err)
		}
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"common name", cert.Subject.CommonName == "node-2"},
		{"dns names", slices.Equal(cert.DNSNames, []string{"node-2", clusterDNSName})},
		{"ip sans", len(cert.IPAddresses) == 2 && cert.IPAddresses[0].Equal(ips[0]) && cert.IPAddresses[1].Equal(ips[1])},
		{"not a CA", !cert.IsCA},
		{"one year", cert.NotAfter.Sub(cert.NotBefore) > 364*24*time.Hour && cert.NotAfter.Sub(cert.NotBefore) < 366*24*time.Hour},
		{"serial", cert.SerialNumber.Sign() > 0},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s is wrong: %+v", c.name, cert)
		}
	}
}

func TestSignCSRRefuses(t *testing.T) {
	ca := newTestCA(t)
	good, _, err := NewCSR("node-2")
	if err != nil {
		t.Fatal(err)
	}
	tampered := slices.Clone(good)
	tampered[len(tampered)-5] ^= 0xff // inside the signature
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		csr    []byte
		nodeID string
		want   error
	}{
		{"other common name", good, "node-3", ErrInvalidCSR},
		{"tampered signature", tampered, "node-2", ErrInvalidCSR},
		{"garbage", []byte("not a csr"), "node-2", ErrInvalidCSR},
		{"empty", nil, "node-2", ErrInvalidCSR},
		{"rsa key", csrWith(t, rsaKey, "node-2"), "node-2", ErrInvalidCSR},
		{"p384 key", csrWith(t, p384, "node-2"), "node-2", ErrInvalidCSR},
		{"bad node id", good, "node 2", ErrInvalidNodeID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, err := SignCSR(ca, tt.csr, tt.nodeID, nil)
			if !errors.Is(err, tt.want) || cert != nil {
				t.Errorf("SignCSR = %d bytes, %v; want %v", len(cert), err, tt.want)
			}
		})
	}
}

// csrWith makes a CSR with CommonName cn signed by key.
func csrWith(t *testing.T, key any, cn string) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestValidateNodeID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"node-1", true},
		{"coffer_2.eu-west", true},
		{"2f1c9c1e-7c53-4f7c-a9cd-2b1a3c4d5e6f", true},
		{strings.Repeat("a", MaxNodeIDLen), true},
		{strings.Repeat("a", MaxNodeIDLen+1), false},
		{"", false},
		{"node 1", false},
		{"node/1", false},
		{"nöde", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			err := ValidateNodeID(tt.id)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidNodeID)) {
				t.Errorf("ValidateNodeID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
			}
		})
	}
}

func TestNewCSR(t *testing.T) {
	der, keyPEM, err := NewCSR("node-1")
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil || csr.CheckSignature() != nil || csr.Subject.CommonName != "node-1" {
		t.Fatalf("bad CSR: %v", err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatal("the key is not PKCS#8 PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !key.(*ecdsa.PrivateKey).PublicKey.Equal(csr.PublicKey) {
		t.Error("the key does not match the CSR")
	}
	if _, _, err := NewCSR("bad id"); !errors.Is(err, ErrInvalidNodeID) {
		t.Errorf("NewCSR(bad id) = %v, want ErrInvalidNodeID", err)
	}
}

// FuzzSignCSR feeds SignCSR certificate requests as a joining node could
// send them: it must never panic, and whatever it signs must carry the
// node ID.
func FuzzSignCSR(f *testing.F) {
	ca := newTestCA(f)
	good, _, err := NewCSR("node-2")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "node-2")
	f.Add(good[:len(good)/2], "node-2")
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00}, "n")
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, csr []byte, nodeID string) {
		certPEM, err := SignCSR(ca, csr, nodeID, nil)
		if err != nil {
			return
		}
		block, _ := pem.Decode(certPEM)
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("signed an unparseable certificate: %v", err)
		}
		if cert.Subject.CommonName != nodeID {
			t.Fatalf("signed %q for node %q", cert.Subject.CommonName, nodeID)
		}
	})
}
