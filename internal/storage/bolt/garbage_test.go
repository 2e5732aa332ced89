package bolt_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/bolt"
)

// writeDB writes content as the database file of a new directory.
func writeDB(t testing.TB, content []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, bolt.FileName), content, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// validDB returns the bytes of a closed bolt database holding a few keys.
func validDB(t testing.TB) []byte {
	t.Helper()
	dir := t.TempDir()
	b, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b/c", "d/e/f"} {
		if err := b.Put(t.Context(), &storage.Entry{Key: k, Value: bytes.Repeat([]byte(k), 500)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	content, err := os.ReadFile(filepath.Join(dir, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return content
}

func randomBytes(n int) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestOpenGarbage(t *testing.T) {
	valid := validDB(t)
	badMetas := bytes.Clone(valid)
	copy(badMetas[:8192], randomBytes(8192)) // both 4 KiB meta pages
	// Intact meta pages over garbage: bbolt trusts the metas and panics
	// reading the freelist; Open must turn that into an error.
	badData := bytes.Clone(valid)
	copy(badData[8192:], randomBytes(len(valid)-8192))
	tests := []struct {
		name    string
		content []byte
	}{
		{"text", []byte("this is not a database\n")},
		{"short random", randomBytes(100)},
		{"page of zeros", make([]byte, 4096)},
		{"random pages", randomBytes(64 << 10)},
		{"json", []byte(`{"keys": ["a", "b"]}`)},
		{"sqlite header", append([]byte("SQLite format 3\x00"), make([]byte, 8192)...)},
		{"meta pages overwritten", badMetas},
		{"truncated after first page", valid[:4096]},
		{"data pages overwritten", badData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := bolt.Open(writeDB(t, tc.content), bolt.Options{Timeout: 100e6})
			if err == nil {
				_ = b.Close()
				t.Fatal("Open of a garbage file succeeded")
			}
			if !errors.Is(err, bolt.ErrNotDatabase) {
				t.Fatalf("Open error = %v, want ErrNotDatabase", err)
			}
		})
	}
}

func TestOpenForeignBoltFile(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(tx *bbolt.Tx) error
		wantErr error
	}{
		{"other buckets only", func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucket([]byte("other"))
			return err
		}, nil},
		{"empty", func(*bbolt.Tx) error { return nil }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(tc.setup); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			b := open(t, dir, bolt.Options{NoSync: true})
			if err := b.Put(t.Context(), &storage.Entry{Key: "k", Value: []byte("v")}); err != nil {
				t.Fatalf("Put into adopted file: %v", err)
			}
		})
	}
}

// FuzzOpen opens arbitrary bytes as a database file: Open must return a
// backend or an error, never panic or hang. With CheckAllPages, which checks
// the structure of the whole file, the backend must then also read every
// key and take a write without either. Inputs are whole database files,
// tens of KiB, so give minimization a bound: -fuzz=FuzzOpen
// -fuzzminimizetime=3s.
func FuzzOpen(f *testing.F) {
	f.Add([]byte("not a database"))
	f.Add(make([]byte, 4096))
	f.Add(randomBytes(3 * 4096))
	f.Add(validDB(f))
	f.Fuzz(func(t *testing.T, content []byte) {
		b, err := bolt.Open(writeDB(t, content), bolt.Options{Timeout: 100e6, NoSync: true})
		if err == nil {
			_ = b.Close()
		}
		b, err = bolt.Open(writeDB(t, content), bolt.Options{Timeout: 100e6, NoSync: true, CheckAllPages: true})
		if err != nil {
			return
		}
		defer b.Close()
		readAll(t, b, "")
		_ = b.Put(t.Context(), &storage.Entry{Key: "fuzz/new", Value: []byte("v")})
		readAll(t, b, "")
	})
}

// readAll reads every key under prefix; errors are fine, panics are not.
func readAll(t *testing.T, b *bolt.Backend, prefix string) {
	keys, err := b.List(t.Context(), prefix)
	if err != nil {
		return
	}
	for _, k := range keys {
		if strings.HasSuffix(k, "/") {
			readAll(t, b, prefix+k)
		} else {
			_, _ = b.Get(t.Context(), prefix+k)
		}
	}
}
