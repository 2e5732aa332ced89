package raft

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

func testSeal(sums []byte) ([]byte, error) { return append([]byte("tag:"), sums[:8]...), nil }

// archiveOf writes an archive of a one-node cluster holding one key.
func archiveOf(t testing.TB) []byte {
	t.Helper()
	_, nodes := testCluster(t, 1)
	nd := waitLeader(t, nodes)
	if err := nd.Put(context.Background(), &storage.Entry{Key: "k", Value: []byte("archived")}); err != nil {
		t.Fatal(err)
	}
	snap, err := nd.OpenSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var buf bytes.Buffer
	if err := snap.WriteArchive(&buf, testSeal); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rewrite re-packs an archive's files through edit (which may drop a file
// by returning nil).
func rewrite(t testing.TB, archive []byte, edit func(name string, data []byte) []byte) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out bytes.Buffer
	gw := gzip.NewWriter(&out)
	tw := tar.NewWriter(gw)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if data = edit(h.Name, data); data == nil {
			continue
		}
		_ = tw.WriteHeader(&tar.Header{Name: h.Name, Mode: 0o600, Size: int64(len(data)), Typeflag: tar.TypeReg})
		_, _ = tw.Write(data)
	}
	_ = tw.Close()
	_ = gw.Close()
	return out.Bytes()
}

func TestArchiveRoundTrip(t *testing.T) {
	archive := archiveOf(t)
	_, nodes := testCluster(t, 1)
	nd := waitLeader(t, nodes)
	a, err := nd.ReadArchive(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if want, _ := testSeal(a.Sums); !bytes.Equal(a.Sealed, want) {
		t.Fatalf("sealed tag %q; want %q", a.Sealed, want)
	}
	if err := nd.RestoreArchive(a); err != nil {
		t.Fatal(err)
	}
	if e, err := nd.Get(context.Background(), "k"); err != nil || string(e.Value) != "archived" {
		t.Fatalf("restored key: %v", err)
	}
}

func TestArchiveRejects(t *testing.T) {
	archive := archiveOf(t)
	flip := func(target string) func(string, []byte) []byte {
		return func(name string, data []byte) []byte {
			if name == target {
				data = append([]byte(nil), data...)
				data[len(data)/2] ^= 1
			}
			return data
		}
	}
	drop := func(target string) func(string, []byte) []byte {
		return func(name string, data []byte) []byte {
			if name == target {
				return nil
			}
			return data
		}
	}
	garbageState := func(name string, data []byte) []byte {
		if name == archiveState {
			return []byte("not a database")
		}
		return data
	}
	for _, tc := range []struct {
		name  string
		input []byte
		want  string
	}{
		{"not gzip", []byte("hello"), "not gzip"},
		{"truncated", archive[:len(archive)/2], ""},
		{"state edited", rewrite(t, archive, flip(archiveState)), "does not match"},
		{"meta edited", rewrite(t, archive, flip(archiveMeta)), "does not match"},
		{"sums edited", rewrite(t, archive, flip(archiveSums)), ""},
		{"no sealed file", rewrite(t, archive, drop(archiveSealed)), "missing"},
		{"no state", rewrite(t, archive, drop(archiveState)), "belongs"},
		{"state replaced", rewrite(t, archive, garbageState), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readArchive(bytes.NewReader(tc.input), t.TempDir())
			if !errors.Is(err, ErrBadArchive) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("readArchive: %v; want ErrBadArchive mentioning %q", err, tc.want)
			}
		})
	}
}

func FuzzReadArchive(f *testing.F) {
	archive := archiveOf(f)
	f.Add(archive)
	f.Add(archive[:len(archive)/3])
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	f.Add([]byte("plain"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := readArchive(bytes.NewReader(data), dir)
		if err != nil {
			if !errors.Is(err, ErrBadArchive) {
				t.Fatalf("error outside ErrBadArchive: %v", err)
			}
			return
		}
		if len(a.Sealed) == 0 || len(a.Sums) == 0 {
			t.Fatal("accepted an archive without checksums")
		}
		_ = a.Close()
	})
}
