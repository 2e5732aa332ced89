package raft

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// certWith signs a certificate for a fresh key with ca, after edit changes
// the node-certificate template, and returns the certificate and key PEM.
func certWith(t *testing.T, ca *CA, edit func(*x509.Certificate)) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(), Subject: pkix.Name{CommonName: "node-a"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if edit != nil {
		edit(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func TestIdentityFromPEM(t *testing.T) {
	ca, other := soloCA(t), soloCA(t)
	good, goodKey := certWith(t, ca, nil)
	_, otherKey := certWith(t, ca, nil)
	serverOnly, serverOnlyKey := certWith(t, ca, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	noCN, noCNKey := certWith(t, ca, func(c *x509.Certificate) { c.Subject = pkix.Name{} })
	expired, expiredKey := certWith(t, ca, func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)
	})
	bothCAs := append(append([]byte{}, other.CertPEM...), ca.CertPEM...)
	cases := []struct {
		name         string
		caPEM        []byte
		cert, key    []byte
		wantErr      bool
		wantNodeName string
	}{
		{"node certificate", ca.CertPEM, good, goodKey, false, "node-a"},
		{"CA bundle holding the signer", bothCAs, good, goodKey, false, "node-a"},
		{"key of another certificate", ca.CertPEM, good, otherKey, true, ""},
		{"another CA", other.CertPEM, good, goodKey, true, ""},
		{"no CA", nil, good, goodKey, true, ""},
		{"server-only certificate", ca.CertPEM, serverOnly, serverOnlyKey, true, ""},
		{"no common name", ca.CertPEM, noCN, noCNKey, true, ""},
		{"expired", ca.CertPEM, expired, expiredKey, true, ""},
		{"garbage", ca.CertPEM, []byte("junk"), []byte("junk"), true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := IdentityFromPEM(c.caPEM, c.cert, c.key)
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v, want error %v", err, c.wantErr)
			}
			if err != nil {
				return
			}
			parsed, err := parseIdentity(id)
			if err != nil || parsed.nodeID != c.wantNodeName {
				t.Fatalf("parsed %v, %v; want node %q", parsed, err, c.wantNodeName)
			}
		})
	}
}

func TestIdentityIsRedacted(t *testing.T) {
	id, err := soloCA(t).IssueNode("node-a", nil)
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "identity", id)
	for _, s := range []string{fmt.Sprint(id), fmt.Sprintf("%v", id), logged.String()} {
		if !strings.Contains(s, "[REDACTED]") || strings.Contains(s, "PRIVATE") {
			t.Errorf("identity printed as %q", s)
		}
	}
}

func TestLoadCARoundTrip(t *testing.T) {
	ca := soloCA(t)
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadCA(ca.CertPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	id, err := loaded.IssueNode("node-x", nil)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := parseIdentity(Identity{CACertPEM: ca.CertPEM, Cert: id.Cert})
	if err != nil || parsed.nodeID != "node-x" {
		t.Fatalf("a node certificate of the reloaded CA: %v %v", parsed, err)
	}
	if _, err := LoadCA(ca.CertPEM, []byte("junk")); err == nil {
		t.Fatal("LoadCA accepted a bad key")
	}
}

// TestHandshakeChecksNodeID dials a node expecting another node ID at its
// address: the dialler refuses it.
func TestHandshakeChecksNodeID(t *testing.T) {
	ca := soloCA(t)
	srv, err := ca.IssueNode("node-a", nil)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := ca.IssueNode("node-b", nil)
	if err != nil {
		t.Fatal(err)
	}
	srvID, _ := parseIdentity(srv)
	cliID, _ := parseIdentity(cli)
	cases := []struct {
		name    string
		wantID  string
		proto   string
		wantErr bool
	}{
		{"expected node", "node-a", protoRPC, false},
		{"any node", "", protoRaft, false},
		{"another node at the address", "node-c", protoRPC, true},
		{"unknown protocol", "", "h2", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ln, err := tls.Listen("tcp", "127.0.0.1:0", srvID.serverConfig())
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err == nil {
					_ = c.(*tls.Conn).Handshake()
					_ = c.Close()
				}
			}()
			conn, err := tls.Dial("tcp", ln.Addr().String(), cliID.clientConfig(c.proto, c.wantID))
			if conn != nil {
				conn.Close()
			}
			if (err != nil) != c.wantErr {
				t.Fatalf("dial: %v; want error %v", err, c.wantErr)
			}
			if err != nil && c.proto != "h2" && !errors.Is(err, ErrPeerRefused) {
				t.Fatalf("dial: %v; want ErrPeerRefused", err)
			}
		})
	}
}
