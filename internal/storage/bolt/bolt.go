// Package bolt is the embedded storage.Backend: one bbolt file holding every
// key flat in a single bucket.
package bolt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/cofferdev/coffer/internal/storage"
)

const (
	// FileName is the database file Open creates inside its directory.
	FileName = "coffer.db"
	// DefaultTimeout is how long Open waits for the file lock by default.
	DefaultTimeout = time.Second
	// bucket is the one bucket that holds every key.
	bucket = "coffer"
)

var (
	// ErrLocked is returned by Open when another process (or another Open in
	// this one) holds the database file for longer than Options.Timeout.
	ErrLocked = errors.New("storage: bolt file is locked by another process")
	// ErrNotDatabase is returned by Open when the file exists but is not a
	// usable bbolt database: another format, a damaged file or a bbolt
	// version we cannot read.
	ErrNotDatabase = errors.New("storage: bolt file is not a valid database")
)

// Options tune Open. The zero value is the production setting.
type Options struct {
	// Timeout is how long Open waits for the file lock; zero means
	// DefaultTimeout. Negative values are rejected.
	Timeout time.Duration
	// NoSync skips fsync after each commit, so a crash may lose or corrupt
	// data. Tests only.
	NoSync bool
	// CheckAllPages makes Open check the structure of every bucket's pages
	// in an existing file, not only the root bucket's and the freelist's:
	// for files from elsewhere, such as a snapshot being restored. It reads
	// every page header, so it costs time in proportion to the file (0.24 s
	// for 250 MB with the file in the page cache).
	CheckAllPages bool
}

// Backend is a storage.Backend on one bbolt file. It is safe for concurrent
// use: bbolt runs one writer at a time and readers on consistent snapshots,
// so a reader never sees part of a transaction.
type Backend struct {
	db *bolt.DB
}

var (
	_ storage.Backend = (*Backend)(nil)
	_ storage.Closer  = (*Backend)(nil)
)

// Open opens or creates the database in directory path (created with mode
// 0700 if missing); the file is path/coffer.db, created with mode 0600. It
// fails with ErrLocked when the file stays locked for opts.Timeout and with
// ErrNotDatabase when the file is not a bbolt database or its structure is
// damaged (see checkFile).
func Open(path string, opts Options) (*Backend, error) {
	timeout := opts.Timeout
	switch {
	case timeout < 0:
		return nil, fmt.Errorf("storage: bolt: negative lock timeout %v", timeout)
	case timeout == 0:
		timeout = DefaultTimeout
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("storage: bolt: create directory: %w", err)
	}
	file := filepath.Join(path, FileName)
	db, err := openDB(file, &bolt.Options{
		Timeout:      timeout,
		NoSync:       opts.NoSync,
		FreelistType: bolt.FreelistMapType,
	}, opts.CheckAllPages)
	if err != nil {
		return nil, err
	}
	return &Backend{db: db}, nil
}

// openDB opens file and makes sure the bucket exists, turning bbolt's
// errors about the file into ErrLocked and ErrNotDatabase. An existing file
// has its structure checked first (checkFile), all of it with all.
func openDB(file string, opts *bolt.Options, all bool) (db *bolt.DB, err error) {
	// bbolt trusts a file whose meta pages carry valid checksums and whose
	// structure checkFile passed; a file damaged past those can still make
	// it panic, or fault on the memory map, while loading the freelist or
	// the bucket. Report that as a bad file rather than crash. (The file
	// descriptor bbolt opened cannot be reclaimed after such a panic.)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			db, err = nil, fmt.Errorf("%w: %s: %v", ErrNotDatabase, file, p)
		}
	}()
	if err := checkExisting(file, opts.Timeout, all); err != nil {
		return nil, err
	}
	db, err = bolt.Open(file, 0o600, opts)
	if err != nil {
		return nil, openError(file, opts.Timeout, err)
	}
	if err := ensureBucket(db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return db, nil
}

// checkExisting checks the structure of file, if it exists and is not
// empty, before bbolt opens it for writing. It holds a read-only handle,
// and with it a shared lock, meanwhile, so no other process writes the file
// as it is read.
func checkExisting(file string, timeout time.Duration, all bool) error {
	info, err := os.Stat(file)
	if errors.Is(err, fs.ErrNotExist) || err == nil && info.Size() == 0 {
		return nil // bbolt creates the database
	}
	if err != nil {
		return fmt.Errorf("storage: bolt: open %s: %w", file, err)
	}
	ro, err := bolt.Open(file, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return openError(file, timeout, err)
	}
	defer ro.Close()
	if err := checkFile(file, ro.Info().PageSize, all); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNotDatabase, file, err)
	}
	return nil
}

// openError turns an error of bolt.Open into ErrLocked, an I/O error or
// ErrNotDatabase.
func openError(file string, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("%w: %s (waited %v)", ErrLocked, file, timeout)
	case isIOError(err):
		return fmt.Errorf("storage: bolt: open %s: %w", file, err)
	default:
		// ErrInvalid, ErrVersionMismatch, ErrChecksum and bbolt's unexported
		// complaints such as "file size too small" all mean bad contents.
		return fmt.Errorf("%w: %s: %w", ErrNotDatabase, file, err)
	}
}

// ensureBucket creates the bucket if the file lacks it. It looks first, so
// opening an existing database writes nothing.
func ensureBucket(db *bolt.DB) error {
	var exists bool
	err := db.View(func(tx *bolt.Tx) error {
		exists = tx.Bucket([]byte(bucket)) != nil
		return nil
	})
	if err != nil || exists {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte(bucket))
		return err
	})
	if errors.Is(err, berrors.ErrIncompatibleValue) {
		return fmt.Errorf("%w: %q is not a bucket", ErrNotDatabase, bucket)
	}
	return err
}

// isIOError reports whether err came from the operating system (permissions,
// a directory in the file's place, mmap failing) rather than from the
// contents of the file.
func isIOError(err error) bool {
	var pathErr *fs.PathError
	var errno syscall.Errno
	return errors.As(err, &pathErr) || errors.As(err, &errno)
}

// Close releases the file and its lock. Calls after Close fail.
func (b *Backend) Close() error {
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("storage: bolt: close: %w", err)
	}
	return nil
}
