package testcluster

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/server/servertest"
	"github.com/cofferdev/coffer/internal/testport"
)

// Layout is where the nodes of a loopback cluster listen and keep their
// files: one directory per node, one API certificate (for 127.0.0.1) and one
// static seal key shared by every node. Both the in-process cluster (Start)
// and the real-process fault tests write their node configurations from it.
type Layout struct {
	// Dir holds the shared files and one subdirectory per node.
	Dir string
	// TLS is the API listeners' CA, certificate and key.
	TLS *servertest.TLSFiles
	// SealKeyFile is the static seal's key file (32 random bytes, base64,
	// mode 0600).
	SealKeyFile string
	// Nodes are the nodes in index order.
	Nodes []NodeLayout
}

// NodeLayout is one node's identity, addresses and directories.
type NodeLayout struct {
	// ID is the raft node id, "node-<i>".
	ID string
	// APIAddr is the API listener's host:port.
	APIAddr string
	// ClusterAddr is the host:port the node advertises as cluster_addr.
	// Tests that put a proxy in front of the cluster port change it
	// before writing the configuration.
	ClusterAddr string
	// RaftOptions are extra storage "raft" settings (trailing_logs, ...).
	RaftOptions map[string]string
	// ClusterBind, if set, is where the cluster port listens (the
	// listener's cluster_address) when ClusterAddr is a proxy in front.
	ClusterBind string
	// Dir is the node's own directory; raft storage lives in Dir/raft.
	Dir string
	// LogLevel is the node's log_level ("debug" unless changed).
	LogLevel string
}

// NewLayout reserves loopback ports for n nodes and writes the shared TLS
// and seal key files under dir.
func NewLayout(t testing.TB, dir string, n int) *Layout {
	t.Helper()
	l := &Layout{Dir: dir, TLS: servertest.WriteTLSFiles(t, dir), SealKeyFile: filepath.Join(dir, "seal.key")}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.SealKeyFile, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		nd := NodeLayout{
			ID: fmt.Sprintf("node-%d", i), APIAddr: testport.Loopback(t), ClusterAddr: testport.Loopback(t),
			Dir: filepath.Join(dir, fmt.Sprintf("node-%d", i)), LogLevel: "debug",
		}
		if err := os.MkdirAll(nd.Dir, 0o700); err != nil {
			t.Fatal(err)
		}
		l.Nodes = append(l.Nodes, nd)
	}
	return l
}

// RaftDir is node i's raft data directory (the storage "raft" path).
func (l *Layout) RaftDir(i int) string { return filepath.Join(l.Nodes[i].Dir, "raft") }

// URL is node i's API base URL.
func (l *Layout) URL(i int) string { return "https://" + l.Nodes[i].APIAddr }

// Config returns node i's configuration file. A cluster of one node has no
// retry_join block (it bootstraps itself at start); in a larger cluster
// every node has one retry_join block per other node, and sys/init on any
// node bootstraps the cluster the others then join.
func (l *Layout) Config(i int) string {
	nd := l.Nodes[i]
	var b strings.Builder
	fmt.Fprintf(&b, "storage \"raft\" {\n  path    = %q\n  node_id = %q\n", l.RaftDir(i), nd.ID)
	for _, k := range slices.Sorted(maps.Keys(nd.RaftOptions)) {
		fmt.Fprintf(&b, "  %s = %q\n", k, nd.RaftOptions[k])
	}
	for j, other := range l.Nodes {
		if j == i || len(l.Nodes) == 1 {
			continue
		}
		fmt.Fprintf(&b, "  retry_join {\n    leader_api_addr     = %q\n    leader_ca_cert_file = %q\n  }\n",
			"https://"+other.APIAddr, l.TLS.CAFile)
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "cluster_addr = %q\napi_addr     = %q\n", "https://"+nd.ClusterAddr, l.URL(i))
	fmt.Fprintf(&b, "listener \"tcp\" {\n  address       = %q\n  tls_cert_file = %q\n  tls_key_file  = %q\n",
		nd.APIAddr, l.TLS.CertFile, l.TLS.KeyFile)
	if nd.ClusterBind != "" {
		fmt.Fprintf(&b, "  cluster_address = %q\n", nd.ClusterBind)
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "seal \"static\" {\n  key_file = %q\n}\n", l.SealKeyFile)
	fmt.Fprintf(&b, "log_level = %q\n", nd.LogLevel)
	return b.String()
}

// WriteConfig writes node i's configuration to Dir/coffer.hcl and returns
// the file's path.
func (l *Layout) WriteConfig(t testing.TB, i int) string {
	t.Helper()
	path := filepath.Join(l.Nodes[i].Dir, "coffer.hcl")
	if err := os.WriteFile(path, []byte(l.Config(i)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
