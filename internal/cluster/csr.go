package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/cofferdev/coffer/internal/storage/raft"
)

// MaxNodeIDLen bounds node IDs: they are certificate names and map keys of
// an unauthenticated endpoint.
const MaxNodeIDLen = 128

// nodeCertValidity is how long a node certificate lasts, as the ones
// raft.CA.NodeTLS issues.
const nodeCertValidity = 365 * 24 * time.Hour

// clusterDNSName is the name every node certificate carries besides its
// node ID: nodes dial each other by address and check this name, as with
// the certificates raft.CA.NodeTLS issues.
const clusterDNSName = "coffer-cluster"

// ValidateNodeID reports an ID that is empty, longer than MaxNodeIDLen or
// holds characters other than ASCII letters, digits, '.', '_' and '-'.
func ValidateNodeID(id string) error {
	if id == "" || len(id) > MaxNodeIDLen {
		return fmt.Errorf("%w: must be 1 to %d characters", ErrInvalidNodeID, MaxNodeIDLen)
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("%w: only letters, digits, '.', '_' and '-' are allowed", ErrInvalidNodeID)
		}
	}
	return nil
}

// NewCSR makes an ECDSA P-256 key for nodeID and a certificate request for
// it whose CommonName is nodeID. It returns the request in DER and the key
// in PKCS#8 PEM.
func NewCSR(nodeID string) (csrDER []byte, keyPEM []byte, err error) {
	if err := ValidateNodeID(nodeID); err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: generate node key: %w", err)
	}
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: nodeID}}
	csrDER, err = x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: create certificate request: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster: encode node key: %w", err)
	}
	return csrDER, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// SignCSR issues the node certificate of nodeID for the request csrDER,
// signed by ca: the same shape raft.CA.NodeTLS issues (CommonName and DNS
// name nodeID, DNS name "coffer-cluster", IP SANs ips, usable as server and
// client, one year). It refuses a request that does not parse, whose
// signature does not verify, whose key is not ECDSA P-256 or whose
// CommonName is not nodeID. Names and extensions asked for in the request
// are ignored. The certificate is returned in PEM.
func SignCSR(ca *raft.CA, csrDER []byte, nodeID string, ips []net.IP) (certPEM []byte, err error) {
	if err := ValidateNodeID(nodeID); err != nil {
		return nil, err
	}
	csr, err := parseCSR(csrDER, nodeID)
	if err != nil {
		return nil, err
	}
	caKey, err := caSigner(ca)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("cluster: certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: nodeID},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(nodeCertValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    []string{nodeID, clusterDNSName}, IPAddresses: ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, csr.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("cluster: sign node certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// parseCSR parses and checks a node's certificate request.
func parseCSR(der []byte, nodeID string) (*x509.CertificateRequest, error) {
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCSR, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCSR, err)
	}
	pub, ok := csr.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: the key must be ECDSA P-256", ErrInvalidCSR)
	}
	if csr.Subject.CommonName != nodeID {
		return nil, fmt.Errorf("%w: common name %q is not the node id %q", ErrInvalidCSR, csr.Subject.CommonName, nodeID)
	}
	return csr, nil
}

// caSigner recovers the CA's private key from its PEM form, the only way
// raft.CA exposes it.
func caSigner(ca *raft.CA) (*ecdsa.PrivateKey, error) {
	if ca == nil || ca.Cert == nil {
		return nil, errors.New("cluster: no cluster CA")
	}
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		return nil, fmt.Errorf("cluster: cluster CA key: %w", err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("cluster: cluster CA key is not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("cluster: cluster CA key: %w", err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("cluster: cluster CA key is not ECDSA")
	}
	return ec, nil
}
