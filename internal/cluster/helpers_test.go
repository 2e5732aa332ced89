package cluster

import (
	"encoding/json"
	"net"
	"testing"

	"github.com/cofferdev/coffer/internal/storage/raft"
)

// newTestCA makes a cluster CA.
func newTestCA(t testing.TB) *raft.CA {
	t.Helper()
	ca, err := raft.NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// issue makes a key and CSR for nodeID and has ca sign it.
func issue(t testing.TB, ca *raft.CA, nodeID string) NodeFiles {
	t.Helper()
	csr, key, err := NewCSR(nodeID)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := SignCSR(ca, csr, nodeID, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	return NodeFiles{CACertPEM: ca.CertPEM, CertPEM: cert, KeyPEM: key}
}

func jsonString(b []byte) string {
	out, _ := json.Marshal(string(b))
	return string(out)
}
