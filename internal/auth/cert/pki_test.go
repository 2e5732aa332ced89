package cert

// Test PKI: throwaway CAs, intermediates, client leaves and CRLs built with
// crypto/x509. The names are exported so the end-to-end tests in package
// cert_test can use them too.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"testing"
	"time"
)

// randomSerial returns a random 127-bit serial number.
func randomSerial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCA is a CA (root or intermediate) that issues test certificates.
type TestCA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	// PEM is the CA certificate as PEM text.
	PEM string
}

// TestLeaf is an issued client certificate and its key.
type TestLeaf struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	PEM  string
}

// LeafOpts describe a client certificate to issue. Zero values give a
// certificate valid from an hour ago for a day, with client-auth usage.
type LeafOpts struct {
	CN                string
	DNS, Emails, OUs  []string
	URIs              []string
	NotBefore         time.Time
	NotAfter          time.Time
	ExtKeyUsage       []x509.ExtKeyUsage
	Extensions        []pkix.Extension
	SubjectKeyID      []byte
	DisableClientAuth bool
}

func testKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemOf(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// NewTestCA creates a self-signed root CA.
func NewTestCA(t testing.TB, cn string) *TestCA {
	t.Helper()
	return issueCA(t, cn, nil)
}

// Intermediate creates an intermediate CA signed by ca.
func (ca *TestCA) Intermediate(t testing.TB, cn string) *TestCA {
	t.Helper()
	return issueCA(t, cn, ca)
}

func issueCA(t testing.TB, cn string, parent *TestCA) *TestCA {
	t.Helper()
	key := testKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(t), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &TestCA{Cert: c, Key: key, PEM: pemOf(der)}
}

// Leaf issues a client certificate.
func (ca *TestCA) Leaf(t testing.TB, o LeafOpts) *TestLeaf {
	t.Helper()
	key := testKey(t)
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(24 * time.Hour)
	}
	eku := o.ExtKeyUsage
	if eku == nil && !o.DisableClientAuth {
		eku = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(t),
		Subject:      pkix.Name{CommonName: o.CN, OrganizationalUnit: o.OUs},
		NotBefore:    o.NotBefore, NotAfter: o.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: eku,
		DNSNames: o.DNS, EmailAddresses: o.Emails, ExtraExtensions: o.Extensions,
		SubjectKeyId: o.SubjectKeyID,
	}
	for _, s := range o.URIs {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &TestLeaf{Cert: c, Key: key, PEM: pemOf(der)}
}

// CRL returns a PEM CRL signed by ca revoking the given certificates.
func (ca *TestCA) CRL(t testing.TB, revoked ...*x509.Certificate) string {
	t.Helper()
	tmpl := &x509.RevocationList{Number: randomSerial(t),
		ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}
	for _, c := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}))
}

// TLSCertificate returns the leaf, followed by chain, as a client
// certificate for a tls.Config.
func (l *TestLeaf) TLSCertificate(chain ...*TestCA) tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{l.Cert.Raw}, PrivateKey: l.Key, Leaf: l.Cert}
	for _, c := range chain {
		tc.Certificate = append(tc.Certificate, c.Cert.Raw)
	}
	return tc
}

// KeyPEM returns the leaf's private key as PEM.
func (l *TestLeaf) KeyPEM(t testing.TB) string {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(l.Key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}
