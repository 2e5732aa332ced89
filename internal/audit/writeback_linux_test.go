package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// writebackDir is a directory on a file system whose page cache can be
// dropped: the test's temporary directory unless that is a tmpfs (whose
// pages live only in memory), then one next to the package.
func writebackDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type == unix.TMPFS_MAGIC {
		d, err := os.MkdirTemp(".", "writeback-test-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	return dir
}

// resident reports, page by page, whether the file at path is in the page
// cache.
func resident(t *testing.T, path string) []bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	m, err := unix.Mmap(int(f.Fd()), 0, int(info.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	out := make([]bool, len(vec))
	for i, v := range vec {
		out[i] = v&1 != 0
	}
	return out
}

func TestFileSinkWritesBackAndDropsWhatItWrote(t *testing.T) {
	page := os.Getpagesize()
	path := filepath.Join(writebackDir(t), "audit.log")
	d := &fileDest{path: path, mode: 0o600}
	if _, fresh, err := d.open(); err != nil || !fresh {
		t.Fatalf("open: fresh=%v err=%v", fresh, err)
	}
	defer d.close()
	d.wb.chunk = int64(16 * page)
	line := append(bytes.Repeat([]byte("x"), page-1), '\n')
	var want []byte
	// Six chunks, one page per write: each chunk's last write starts a
	// round, which is waited for so none is skipped as busy.
	for i := 0; i < 6*16; i++ {
		if err := d.write(line); err != nil {
			t.Fatal(err)
		}
		want = append(want, line...)
		d.wb.wait()
	}
	// The round at the end of chunk k started chunk k's writeback and
	// dropped chunk k-1: chunks 0-4 are dropped, chunk 5 waits for the
	// next round. (Mapping the file to ask does not read it.)
	res := resident(t, path)
	if len(res) != 6*16 {
		t.Fatalf("%d pages, want %d", len(res), 6*16)
	}
	for p, in := range res {
		if p < 5*16 && in {
			t.Fatalf("page %d (chunk %d) still cached after its round dropped it", p, p/16)
		}
	}
	if !res[len(res)-1] {
		t.Fatal("the last page written is not cached: the test cannot tell a drop from an eviction")
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the file holds %d bytes, not the %d written", len(got), len(want))
	}
}

func TestFileSinkWritebackLeavesOtherFilesAlone(t *testing.T) {
	// A sink whose path is not a regular file (here /dev/null) starts no
	// rounds.
	d := &fileDest{path: os.DevNull, mode: 0o600}
	if _, _, err := d.open(); err != nil {
		t.Fatal(err)
	}
	defer d.close()
	d.wb.chunk = 1
	if err := d.write([]byte("line\n")); err != nil {
		t.Fatal(err)
	}
	if d.wb.running.Load() || d.wb.started != 0 {
		t.Fatalf("a round started for %s", os.DevNull)
	}
}
