package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNodeFilesRoundTrip(t *testing.T) {
	ca := newTestCA(t)
	f := issue(t, ca, "node-1")
	dir := filepath.Join(t.TempDir(), "raft", "tls")
	if err := SaveNodeFiles(dir, f); err != nil {
		t.Fatal(err)
	}
	got, present, err := LoadNodeFiles(dir)
	if err != nil || !present {
		t.Fatalf("LoadNodeFiles: present=%v err=%v", present, err)
	}
	if !bytes.Equal(got.CACertPEM, f.CACertPEM) || !bytes.Equal(got.CertPEM, f.CertPEM) || !bytes.Equal(got.KeyPEM, f.KeyPEM) {
		t.Error("loaded files differ from the saved ones")
	}
	checkMode(t, dir, 0o700)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("directory holds %d entries, want the 3 files (no temporary files left)", len(entries))
	}
	for _, name := range []string{CACertFile, CertFile, KeyFile} {
		checkMode(t, filepath.Join(dir, name), 0o600)
	}

	// A new identity replaces the old one.
	f2 := issue(t, newTestCA(t), "node-1")
	if err := SaveNodeFiles(dir, f2); err != nil {
		t.Fatal(err)
	}
	got, _, err = LoadNodeFiles(dir)
	if err != nil || !bytes.Equal(got.CertPEM, f2.CertPEM) {
		t.Errorf("after replacing: err=%v, same cert=%v", err, bytes.Equal(got.CertPEM, f2.CertPEM))
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("%s has mode %o, want %o", path, got, want)
	}
}

func TestLoadNodeFilesAbsent(t *testing.T) {
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		f, present, err := LoadNodeFiles(dir)
		if err != nil || present || f.CertPEM != nil {
			t.Errorf("LoadNodeFiles(%s) = present %v, %v; want nothing", dir, present, err)
		}
	}
}

func TestNodeFilesRejected(t *testing.T) {
	ca := newTestCA(t)
	good := issue(t, ca, "node-1")
	other := issue(t, newTestCA(t), "node-1")
	tests := []struct {
		name  string
		files map[string][]byte // written by hand, as a crash or an operator could
	}{
		{"key of another cert", map[string][]byte{CACertFile: good.CACertPEM, CertFile: good.CertPEM, KeyFile: other.KeyPEM}},
		{"cert of another CA", map[string][]byte{CACertFile: good.CACertPEM, CertFile: other.CertPEM, KeyFile: other.KeyPEM}},
		{"CA not PEM", map[string][]byte{CACertFile: []byte("x"), CertFile: good.CertPEM, KeyFile: good.KeyPEM}},
		{"key missing", map[string][]byte{CACertFile: good.CACertPEM, CertFile: good.CertPEM}},
		{"only the CA", map[string][]byte{CACertFile: good.CACertPEM}},
		{"too large", map[string][]byte{CACertFile: bytes.Repeat([]byte("a"), maxNodeFileSize+1), CertFile: good.CertPEM, KeyFile: good.KeyPEM}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, present, err := LoadNodeFiles(dir)
			if !errors.Is(err, ErrNodeFiles) || present {
				t.Errorf("LoadNodeFiles = present %v, %v; want ErrNodeFiles", present, err)
			}
		})
	}
}

func TestSaveNodeFilesChecks(t *testing.T) {
	good := issue(t, newTestCA(t), "node-1")
	other := issue(t, newTestCA(t), "node-1")
	bad := NodeFiles{CACertPEM: good.CACertPEM, CertPEM: good.CertPEM, KeyPEM: other.KeyPEM}
	dir := filepath.Join(t.TempDir(), "tls")
	if err := SaveNodeFiles(dir, bad); !errors.Is(err, ErrNodeFiles) {
		t.Fatalf("SaveNodeFiles(mismatched) = %v, want ErrNodeFiles", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused identity created %s", dir)
	}
}

func TestNodeFilesRedacted(t *testing.T) {
	f := issue(t, newTestCA(t), "node-1")
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "files", f)
	outputs := []string{fmt.Sprint(f), fmt.Sprintf("%+v", f), fmt.Sprintf("%#v", f), logged.String()}
	for _, out := range outputs {
		if strings.Contains(out, "PRIVATE KEY") || !strings.Contains(out, "[REDACTED]") {
			t.Errorf("output shows the key or is not redacted: %q", out)
		}
	}
}
