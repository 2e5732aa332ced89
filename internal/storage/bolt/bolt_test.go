package bolt_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/bolt"
	"github.com/cofferdev/coffer/internal/storage/storagetest"
)

// open opens a backend in dir and closes it when the test ends.
func open(t testing.TB, dir string, opts bolt.Options) *bolt.Backend {
	t.Helper()
	b, err := bolt.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func newNoSync(t testing.TB) storage.Backend {
	return open(t, t.TempDir(), bolt.Options{NoSync: true})
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, newNoSync)
}

func TestConformanceView(t *testing.T) {
	storagetest.Run(t, func(t testing.TB) storage.Backend {
		return storage.NewView(newNoSync(t), "mount/uuid/")
	})
}

func BenchmarkBolt(b *testing.B) {
	storagetest.Bench(b, func(b testing.TB) storage.Backend {
		return open(b, b.TempDir(), bolt.Options{})
	})
}

func BenchmarkBoltNoSync(b *testing.B) {
	storagetest.Bench(b, newNoSync)
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	b, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx := t.Context()
	writes := []storage.TxnOp{
		{Kind: storage.OpPut, Entry: storage.Entry{Key: "a/b", Value: []byte("1")}},
		{Kind: storage.OpPut, Entry: storage.Entry{Key: "a/c/d", Value: []byte("2")}},
		{Kind: storage.OpPut, Entry: storage.Entry{Key: "gone", Value: []byte("3")}},
		{Kind: storage.OpDelete, Entry: storage.Entry{Key: "gone"}},
	}
	if err := b.Transaction(ctx, writes); err != nil {
		t.Fatalf("Transaction: %v", err)
	}
	if err := b.Put(ctx, &storage.Entry{Key: "empty", Value: nil}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := b.Get(ctx, "a/b"); err == nil {
		t.Fatalf("Get after Close succeeded")
	}

	b = open(t, dir, bolt.Options{})
	for key, want := range map[string]string{"a/b": "1", "a/c/d": "2", "empty": ""} {
		e, err := b.Get(ctx, key)
		if err != nil || string(e.Value) != want {
			t.Errorf("after reopen Get(%q) = %v, %v; want %q", key, e, err, want)
		}
	}
	if _, err := b.Get(ctx, "gone"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("after reopen Get(gone) error = %v, want ErrNotFound", err)
	}
}

func TestFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	open(t, dir, bolt.Options{NoSync: true})
	for _, tc := range []struct {
		path string
		want os.FileMode
	}{
		{dir, 0o700 | os.ModeDir},
		{filepath.Join(dir, bolt.FileName), 0o600},
	} {
		info, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != tc.want {
			t.Errorf("%s has mode %v, want %v", tc.path, info.Mode(), tc.want)
		}
	}
}

func TestSecondOpenTimesOut(t *testing.T) {
	dir := t.TempDir()
	open(t, dir, bolt.Options{NoSync: true})
	b, err := bolt.Open(dir, bolt.Options{Timeout: 50 * time.Millisecond})
	if err == nil {
		_ = b.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("second Open error = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "storage: bolt file is locked by another process") {
		t.Fatalf("error %q does not say the file is locked", err)
	}
}

func TestOpenAfterCloseReleasesLock(t *testing.T) {
	dir := t.TempDir()
	b, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	open(t, dir, bolt.Options{Timeout: 50 * time.Millisecond, NoSync: true})
}

func TestOpenBadOptions(t *testing.T) {
	if b, err := bolt.Open(t.TempDir(), bolt.Options{Timeout: -time.Second}); err == nil {
		_ = b.Close()
		t.Fatal("Open with a negative timeout succeeded")
	}
}

func TestOpenPathIsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := bolt.Open(path, bolt.Options{}); err == nil {
		_ = b.Close()
		t.Fatal("Open of a regular file as directory succeeded")
	}
}
