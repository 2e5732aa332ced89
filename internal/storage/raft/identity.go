package raft

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// ErrNoIdentity is returned when a node dials the cluster port without a
// cluster identity (it has not joined a cluster yet); such a node also
// refuses every incoming connection.
var ErrNoIdentity = errors.New("storage: raft: this node has no cluster identity")

// ErrPeerRefused is returned when a peer's certificate is not a node
// certificate of the cluster CA, or names a node this node does not expect.
var ErrPeerRefused = errors.New("storage: raft: peer refused")

// Identity is what a node shows and trusts on the cluster port: the cluster
// CA certificate(s) and this node's certificate and private key. The node
// certificate's CommonName is the node ID; peers are verified by CA and
// node ID, never by host name. CACertPEM may hold several certificates
// (old and new CA while the CA is being replaced).
type Identity struct {
	CACertPEM []byte
	Cert      tls.Certificate
}

// String implements fmt.Stringer without the private key.
func (Identity) String() string { return "[REDACTED]" }

// LogValue implements slog.LogValuer without the private key.
func (Identity) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// IsZero reports whether the identity is empty (no CA, no certificate).
func (id Identity) IsZero() bool { return len(id.CACertPEM) == 0 && len(id.Cert.Certificate) == 0 }

// IdentityFromPEM builds an identity from the CA certificate(s), the node
// certificate and its private key, all PEM, and checks that they fit
// together: the key matches the certificate and the CA signed it as a node
// certificate.
func IdentityFromPEM(caCertPEM, certPEM, keyPEM []byte) (Identity, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return Identity{}, fmt.Errorf("storage: raft: node certificate: %w", err)
	}
	id := Identity{CACertPEM: caCertPEM, Cert: cert}
	if _, err := parseIdentity(id); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// tlsIdentity is a parsed Identity.
type tlsIdentity struct {
	roots  *x509.CertPool
	cert   tls.Certificate
	nodeID string
}

// parseIdentity checks an identity and prepares it for handshakes.
func parseIdentity(id Identity) (*tlsIdentity, error) {
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(id.CACertPEM) {
		return nil, fmt.Errorf("%w: no CA certificate in the identity", ErrInvalidConfig)
	}
	if len(id.Cert.Certificate) == 0 || id.Cert.PrivateKey == nil {
		return nil, fmt.Errorf("%w: no node certificate and key in the identity", ErrInvalidConfig)
	}
	t := &tlsIdentity{roots: roots, cert: id.Cert}
	nodeID, err := t.verify(id.Cert.Certificate)
	if err != nil {
		return nil, fmt.Errorf("%w: node certificate: %w", ErrInvalidConfig, err)
	}
	t.nodeID = nodeID
	return t, nil
}

// verify checks a peer's certificate chain (leaf first) and returns the
// node ID it names. A node certificate is signed by the cluster CA, has the
// node ID as CommonName and may be used for both server and client
// authentication; nothing else is accepted.
func (t *tlsIdentity) verify(rawCerts [][]byte) (string, error) {
	if len(rawCerts) == 0 {
		return "", fmt.Errorf("%w: no certificate", ErrPeerRefused)
	}
	certs := make([]*x509.Certificate, len(rawCerts))
	for i, raw := range rawCerts {
		c, err := x509.ParseCertificate(raw)
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrPeerRefused, err)
		}
		certs[i] = c
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: t.roots, Intermediates: inter, CurrentTime: time.Now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	if _, err := leaf.Verify(opts); err != nil {
		return "", fmt.Errorf("%w: %w", ErrPeerRefused, err)
	}
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) ||
		!slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return "", fmt.Errorf("%w: not a node certificate (needs server and client authentication)", ErrPeerRefused)
	}
	if leaf.Subject.CommonName == "" {
		return "", fmt.Errorf("%w: the certificate names no node", ErrPeerRefused)
	}
	return leaf.Subject.CommonName, nil
}

// ALPN protocols of the cluster port.
const (
	// protoRaft carries raft's own RPCs.
	protoRaft = "coffer-raft/1"
	// protoRPC carries HTTP/1.1 between nodes.
	protoRPC = "coffer-rpc/1"
)

// serverConfig is the TLS configuration of one accepted connection: the
// client certificate is checked against this identity's CA by hand (no
// host names are involved), and the verified node ID is then authorized by
// the listener.
func (t *tlsIdentity) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{t.cert},
		ClientAuth:   tls.RequireAnyClientCert,
		NextProtos:   []string{protoRaft, protoRPC},
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			_, err := t.verify(raw)
			return err
		},
	}
}

// clientConfig is the TLS configuration of one dial. The server's
// certificate is verified against the CA by hand; when wantID is set it
// must name that node.
func (t *tlsIdentity) clientConfig(proto, wantID string) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{t.cert},
		NextProtos:   []string{proto},
		// Verification by CA and node ID is done below: nodes are dialled
		// by address, and their certificates name nodes, not hosts.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			raw := make([][]byte, len(cs.PeerCertificates))
			for i, c := range cs.PeerCertificates {
				raw[i] = c.Raw
			}
			got, err := t.verify(raw)
			if err != nil {
				return err
			}
			if wantID != "" && got != wantID {
				return fmt.Errorf("%w: the server is node %q, not %q", ErrPeerRefused, got, wantID)
			}
			if cs.NegotiatedProtocol != proto {
				return fmt.Errorf("%w: the server does not speak %s", ErrPeerRefused, proto)
			}
			return nil
		},
	}
}
