package raft

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	hraft "github.com/hashicorp/raft"
)

// Snapshot archives have Vault's layout, so Vault's client accepts them: a
// gzip-compressed tar of four files, in this order:
//
//	meta.json          raft's snapshot metadata (JSON)
//	state.bin          the state machine: a bbolt file, ciphertext only
//	SHA256SUMS         "<hex sha256>  <name>\n" for meta.json and state.bin
//	SHA256SUMS.sealed  a tag over SHA256SUMS from the caller's seal function,
//	                   binding the archive to the cluster that wrote it
//
// Vault's client checks that the last file is present and not empty.
const (
	archiveMeta   = "meta.json"
	archiveState  = "state.bin"
	archiveSums   = "SHA256SUMS"
	archiveSealed = "SHA256SUMS.sealed"
	// maxSmallFile bounds every archive file but state.bin.
	maxSmallFile = 64 << 10
)

// ErrBadArchive is returned for a snapshot archive that is malformed,
// incomplete or fails its checksums.
var ErrBadArchive = errors.New("storage: raft: invalid snapshot archive")

// OpenedSnapshot is a snapshot taken and ready to be written out once.
type OpenedSnapshot struct {
	meta *hraft.SnapshotMeta
	rc   io.ReadCloser
}

// OpenSnapshot takes a snapshot now. The caller writes it with WriteArchive
// and must Close it.
func (b *Backend) OpenSnapshot() (*OpenedSnapshot, error) {
	f := b.raft.Snapshot()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("storage: raft: snapshot: %w", err)
	}
	meta, rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("storage: raft: open snapshot: %w", err)
	}
	return &OpenedSnapshot{meta: meta, rc: rc}, nil
}

// Close releases the snapshot.
func (s *OpenedSnapshot) Close() error { return s.rc.Close() }

// WriteArchive writes the snapshot as an archive to w. seal returns the
// SHA256SUMS.sealed content for the SHA256SUMS file; it must not be empty.
func (s *OpenedSnapshot) WriteArchive(w io.Writer, seal func(sums []byte) ([]byte, error)) error {
	metaJSON, err := json.Marshal(s.meta)
	if err != nil {
		return err
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	now := time.Now()
	put := func(name string, size int64, r io.Reader) ([]byte, error) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: now, Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(tw, h), io.LimitReader(r, size)); err != nil {
			return nil, err
		}
		return h.Sum(nil), nil
	}
	metaSum, err := put(archiveMeta, int64(len(metaJSON)), bytes.NewReader(metaJSON))
	if err != nil {
		return fmt.Errorf("storage: raft: write archive: %w", err)
	}
	stateSum, err := put(archiveState, s.meta.Size, s.rc)
	if err != nil {
		return fmt.Errorf("storage: raft: write archive: %w", err)
	}
	sums := []byte(fmt.Sprintf("%x  %s\n%x  %s\n", metaSum, archiveMeta, stateSum, archiveState))
	sealed, err := seal(sums)
	if err != nil {
		return fmt.Errorf("storage: raft: seal archive checksums: %w", err)
	}
	if len(sealed) == 0 {
		return errors.New("storage: raft: seal archive checksums: empty tag")
	}
	if _, err := put(archiveSums, int64(len(sums)), bytes.NewReader(sums)); err != nil {
		return fmt.Errorf("storage: raft: write archive: %w", err)
	}
	if _, err := put(archiveSealed, int64(len(sealed)), bytes.NewReader(sealed)); err != nil {
		return fmt.Errorf("storage: raft: write archive: %w", err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("storage: raft: write archive: %w", err)
	}
	return gz.Close()
}

// Archive is a snapshot archive read and checked (checksums, and the state
// is a state-machine database), its state spooled to a file. Close removes
// the spool.
type Archive struct {
	// Sums and Sealed are the SHA256SUMS and SHA256SUMS.sealed files, for
	// the caller to check the seal tag.
	Sums, Sealed []byte
	state        *os.File
	size         int64
}

// Close removes the spooled state.
func (a *Archive) Close() error {
	err := a.state.Close()
	if rerr := os.Remove(a.state.Name()); err == nil {
		err = rerr
	}
	return err
}

// ReadArchive reads an archive written by WriteArchive, spooling its state
// in the node's data directory. Nothing in the store changes.
func (b *Backend) ReadArchive(r io.Reader) (*Archive, error) {
	a, err := readArchive(r, b.cfg.Dir)
	if err != nil {
		return nil, err
	}
	if _, err := checkSnapshot(a.state, a.size); err != nil {
		a.Close()
		return nil, fmt.Errorf("%w: %w", ErrBadArchive, err)
	}
	return a, nil
}

// RestoreArchive replaces the cluster's state with a checked archive's
// (leader only), as RestoreSnapshot.
func (b *Backend) RestoreArchive(a *Archive) error {
	if _, err := a.state.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return b.RestoreSnapshot(io.LimitReader(a.state, a.size))
}

// readArchive parses an archive and checks its checksums, spooling
// state.bin to a temporary file in dir.
func readArchive(r io.Reader, dir string) (*Archive, error) {
	gz, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("%w: not gzip data", ErrBadArchive)
	}
	spool, err := os.CreateTemp(dir, "archive-*.state")
	if err != nil {
		return nil, fmt.Errorf("storage: raft: spool archive: %w", err)
	}
	a := &Archive{state: spool}
	files, err := readArchiveFiles(tar.NewReader(gz), spool, &a.size)
	if err == nil {
		err = checkSums(files)
	}
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Sums, a.Sealed = files[archiveSums].data, files[archiveSealed].data
	return a, nil
}

type archiveFile struct {
	data []byte // small files only
	sum  [sha256.Size]byte
}

// readArchiveFiles reads the four files in order; state.bin goes to spool.
func readArchiveFiles(tr *tar.Reader, spool io.Writer, stateSize *int64) (map[string]*archiveFile, error) {
	files := map[string]*archiveFile{}
	for _, name := range []string{archiveMeta, archiveState, archiveSums, archiveSealed} {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("%w: missing %s", ErrBadArchive, name)
		}
		if h.Name != name || h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%w: found %q where %s belongs", ErrBadArchive, h.Name, name)
		}
		f := &archiveFile{}
		hash := sha256.New()
		if name == archiveState {
			n, err := io.Copy(io.MultiWriter(spool, hash), tr)
			if err != nil {
				return nil, fmt.Errorf("%w: reading %s: %w", ErrBadArchive, name, err)
			}
			*stateSize = n
		} else {
			if h.Size > maxSmallFile {
				return nil, fmt.Errorf("%w: %s is too large", ErrBadArchive, name)
			}
			if f.data, err = io.ReadAll(tr); err != nil {
				return nil, fmt.Errorf("%w: reading %s: %w", ErrBadArchive, name, err)
			}
			hash.Write(f.data)
		}
		copy(f.sum[:], hash.Sum(nil))
		files[name] = f
	}
	if len(files[archiveSealed].data) == 0 {
		return nil, fmt.Errorf("%w: empty %s", ErrBadArchive, archiveSealed)
	}
	return files, nil
}

// checkSums compares SHA256SUMS with the hashes of meta.json and state.bin.
func checkSums(files map[string]*archiveFile) error {
	want := map[string]bool{archiveMeta: true, archiveState: true}
	for _, line := range strings.Split(strings.TrimRight(string(files[archiveSums].data), "\n"), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		raw, err := hex.DecodeString(sum)
		if !ok || err != nil || len(raw) != sha256.Size || !want[name] {
			return fmt.Errorf("%w: malformed %s", ErrBadArchive, archiveSums)
		}
		if !bytes.Equal(raw, files[name].sum[:]) {
			return fmt.Errorf("%w: %s does not match its checksum", ErrBadArchive, name)
		}
		delete(want, name)
	}
	if len(want) > 0 {
		return fmt.Errorf("%w: %s does not cover every file", ErrBadArchive, archiveSums)
	}
	return nil
}
