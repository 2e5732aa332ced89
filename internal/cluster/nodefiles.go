package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// Names of the node identity files in the directory given to SaveNodeFiles
// and LoadNodeFiles (the server uses "<raft path>/tls").
const (
	CACertFile = "ca.pem"
	CertFile   = "node.pem"
	KeyFile    = "node-key.pem"
)

// maxNodeFileSize bounds each identity file read from disk.
const maxNodeFileSize = 64 << 10

// NodeFiles is a node's cluster identity as kept on disk: the cluster CA
// certificate, the node certificate and the node's private key, all PEM.
// It prints as [REDACTED] because it holds the key.
type NodeFiles struct {
	CACertPEM, CertPEM, KeyPEM []byte
}

// String hides the private key.
func (NodeFiles) String() string { return "[REDACTED]" }

// GoString hides the private key from %#v.
func (f NodeFiles) GoString() string { return f.String() }

// LogValue hides the private key from slog.
func (NodeFiles) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// Check reports files that do not belong together: the key must match the
// certificate and the certificate must be signed by the CA certificate.
func (f NodeFiles) Check() error {
	pair, err := tls.X509KeyPair(f.CertPEM, f.KeyPEM)
	if err != nil {
		return fmt.Errorf("%w: node certificate and key: %w", ErrNodeFiles, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Errorf("%w: node certificate: %w", ErrNodeFiles, err)
	}
	block, _ := pem.Decode(f.CACertPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return fmt.Errorf("%w: the CA certificate is not a PEM certificate", ErrNodeFiles)
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("%w: CA certificate: %w", ErrNodeFiles, err)
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		return fmt.Errorf("%w: the node certificate is not signed by the CA: %w", ErrNodeFiles, err)
	}
	return nil
}

// SaveNodeFiles checks f and writes it to dir (created 0700 if missing),
// each file 0600. Every file is written to a temporary file, synced and
// renamed over the old one, then the directory is synced: a crash leaves
// each file either old or new. A crash between two renames can leave old
// and new files side by side; LoadNodeFiles then reports ErrNodeFiles and
// the node has to join again.
func SaveNodeFiles(dir string, f NodeFiles) error {
	if err := f.Check(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cluster: create %s: %w", dir, err)
	}
	files := []struct {
		name string
		data []byte
	}{{KeyFile, f.KeyPEM}, {CertFile, f.CertPEM}, {CACertFile, f.CACertPEM}}
	tmps := make([]string, 0, len(files))
	defer func() {
		for _, t := range tmps {
			os.Remove(t) // already renamed on success
		}
	}()
	for _, file := range files {
		tmp, err := writeTemp(dir, file.name, file.data)
		if err != nil {
			return err
		}
		tmps = append(tmps, tmp)
	}
	for i, file := range files {
		if err := os.Rename(tmps[i], filepath.Join(dir, file.name)); err != nil {
			return fmt.Errorf("cluster: install %s: %w", file.name, err)
		}
	}
	return syncDir(dir)
}

// writeTemp writes data to a new 0600 temporary file in dir, synced, and
// returns its name.
func writeTemp(dir, name string, data []byte) (string, error) {
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("cluster: write %s: %w", name, err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("cluster: write %s: %w", name, err)
	}
	return tmp.Name(), nil
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cluster: sync %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cluster: sync %s: %w", dir, err)
	}
	return nil
}

// LoadNodeFiles reads the identity SaveNodeFiles wrote to dir. present is
// false, with no error, when none of the three files exists (the node has
// not joined yet). Some but not all of them, or files that do not belong
// together, are ErrNodeFiles.
func LoadNodeFiles(dir string) (f NodeFiles, present bool, err error) {
	targets := []struct {
		name string
		dst  *[]byte
	}{{CACertFile, &f.CACertPEM}, {CertFile, &f.CertPEM}, {KeyFile, &f.KeyPEM}}
	var missing []string
	for _, t := range targets {
		data, err := readSmall(filepath.Join(dir, t.name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, t.name)
		case err != nil:
			return NodeFiles{}, false, err
		}
		*t.dst = data
	}
	switch len(missing) {
	case len(targets):
		return NodeFiles{}, false, nil
	case 0:
	default:
		return NodeFiles{}, false, fmt.Errorf("%w: %v missing from %s", ErrNodeFiles, missing, dir)
	}
	if err := f.Check(); err != nil {
		return NodeFiles{}, false, fmt.Errorf("%s: %w", dir, err)
	}
	return f, true, nil
}

// readSmall reads a file of at most maxNodeFileSize bytes.
func readSmall(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.Size() > maxNodeFileSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrNodeFiles, path, maxNodeFileSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cluster: read %s: %w", path, err)
	}
	return data, nil
}
