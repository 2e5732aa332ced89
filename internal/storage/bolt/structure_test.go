package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"
)

// fill writes a database at dir/FileName with bbolt itself, using opts,
// and returns its page size.
func fill(t *testing.T, dir string, opts *bbolt.Options, update func(*bbolt.Tx) error) int {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(update); err != nil {
		t.Fatal(err)
	}
	ps := db.Info().PageSize
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return ps
}

// mixed fills a database with what bbolt's layout has: a bucket of many
// keys (a branch root), values spanning several pages, deleted keys (a
// freelist), nested buckets, small buckets stored inline, and enough
// top-level buckets for the root bucket's tree to branch.
func mixed(tx *bbolt.Tx) error {
	b, err := tx.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return err
	}
	for i := range 3000 {
		if err := b.Put(fmt.Appendf(nil, "key/%05d", i), bytes.Repeat([]byte{byte(i)}, 100)); err != nil {
			return err
		}
	}
	for i := range 5 {
		if err := b.Put(fmt.Appendf(nil, "big/%d", i), bytes.Repeat([]byte{byte(i)}, 20000)); err != nil {
			return err
		}
	}
	for i := 0; i < 3000; i += 3 {
		if err := b.Delete(fmt.Appendf(nil, "key/%05d", i)); err != nil {
			return err
		}
	}
	if err := b.Delete([]byte("big/0")); err != nil {
		return err
	}
	for i := range 400 {
		top, err := tx.CreateBucket(fmt.Appendf(nil, "top-%03d-%s", i, strings.Repeat("x", 40)))
		if err != nil {
			return err
		}
		if i%50 == 0 {
			nested, err := top.CreateBucket([]byte("nested"))
			if err != nil {
				return err
			}
			for j := range 200 {
				if err := nested.Put(fmt.Appendf(nil, "n%03d", j), make([]byte, 64)); err != nil {
					return err
				}
			}
		}
		if err := top.Put([]byte("k"), []byte("v")); err != nil {
			return err
		}
	}
	return nil
}

// TestCheckAcceptsValidFiles: every file bbolt writes passes the structure
// check, in both modes, and opens with its data.
func TestCheckAcceptsValidFiles(t *testing.T) {
	tests := []struct {
		name   string
		opts   *bbolt.Options
		update func(*bbolt.Tx) error
	}{
		{"one empty bucket", nil, func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucket([]byte(bucket))
			return err
		}},
		{"mixed", nil, mixed},
		{"mixed, freelist not stored", &bbolt.Options{NoFreelistSync: true}, mixed},
		{"mixed, 1 KiB pages", &bbolt.Options{PageSize: 1024}, mixed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ps := fill(t, dir, tc.opts, tc.update)
			content, err := os.ReadFile(filepath.Join(dir, FileName))
			if err != nil {
				t.Fatal(err)
			}
			m := metaOf(t, content, ps)
			if stored := m.freelist != noFreelist; tc.opts != nil && tc.opts.NoFreelistSync == stored {
				t.Fatalf("freelist page %d with NoFreelistSync %v", m.freelist, tc.opts.NoFreelistSync)
			}
			if flags := native.Uint16(content[int(m.root)*ps+8:]); tc.name != "one empty bucket" && flags != branchPage {
				t.Fatalf("the root tree's root has type %#x; the test needs a branch", flags)
			}
			for _, all := range []bool{false, true} {
				if err := checkFile(filepath.Join(dir, FileName), ps, all); err != nil {
					t.Fatalf("checkFile(all=%v) = %v", all, err)
				}
			}
			b, err := Open(dir, Options{CheckAllPages: true})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if _, err := b.List(t.Context(), ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCheckLongFreelist: a freelist of more than 0xFFFF pages keeps its
// count in its first element, which the check reads.
func TestCheckLongFreelist(t *testing.T) {
	dir := t.TempDir()
	const pages = 0x10000 + 100
	ps := fill(t, dir, &bbolt.Options{PageSize: 1024}, func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte(bucket))
		if err != nil {
			return err
		}
		return b.Put([]byte("big"), make([]byte, pages*1024))
	})
	fill(t, dir, &bbolt.Options{PageSize: 1024}, func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucket)).Delete([]byte("big"))
	})
	fill(t, dir, &bbolt.Options{PageSize: 1024}, func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucket)).Put([]byte("k"), []byte("v"))
	})
	file := filepath.Join(dir, FileName)
	content, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := metaOf(t, content, ps)
	if count := native.Uint16(content[int(m.freelist)*ps+10:]); count != 0xFFFF {
		t.Fatalf("freelist page count = %#x; the test needs the long form (0xFFFF)", count)
	}
	if err := checkFile(file, ps, true); err != nil {
		t.Fatal(err)
	}
	// The same file with one listed page id out of range is refused, so the
	// ids past the first 0xFFFF were read.
	last := int(m.freelist)*ps + pageHeaderSize + 8*(pages)
	native.PutUint64(content[last:], 1<<40)
	bad := writeFile(t, content)
	if err := checkFile(filepath.Join(bad, FileName), ps, false); err == nil || !strings.Contains(err.Error(), "cannot be free") {
		t.Fatalf("checkFile with a bad id at the end of a long freelist = %v", err)
	}
}

func writeFile(t *testing.T, content []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), content, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func metaOf(t *testing.T, content []byte, ps int) meta {
	t.Helper()
	m, err := readMeta(bytes.NewReader(content), int64(ps))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// damagedFile describes a valid mixed file and where its parts are.
type damagedFile struct {
	content             []byte
	ps                  int
	meta                meta
	cofferRoot          uint64 // a branch page
	inlineValue         int    // offset of an inline bucket's value
	rootLeafFirstEntry  int    // offset of the root tree's first leaf entry
	rootFirstLeafPageID uint64
}

func (d *damagedFile) at(id uint64) int { return int(id) * d.ps }

func newDamagedFile(t *testing.T) *damagedFile {
	t.Helper()
	dir := t.TempDir()
	ps := fill(t, dir, nil, func(tx *bbolt.Tx) error {
		if err := mixed(tx); err != nil {
			return err
		}
		small, err := tx.CreateBucket([]byte("a-small-one"))
		if err != nil {
			return err
		}
		return small.Put([]byte("k"), []byte("v"))
	})
	content, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	d := &damagedFile{content: content, ps: ps, meta: metaOf(t, content, ps)}
	db, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		d.cofferRoot = uint64(tx.Bucket([]byte(bucket)).Root())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if flags := native.Uint16(content[d.at(d.cofferRoot)+8:]); flags != branchPage {
		t.Fatalf("the coffer bucket's root has type %#x; the test needs a branch", flags)
	}
	// Down the root tree's leftmost path to its first leaf: "a-small-one"
	// sorts first.
	id := d.meta.root
	for native.Uint16(content[d.at(id)+8:]) == branchPage {
		id = native.Uint64(content[d.at(id)+pageHeaderSize+8:])
	}
	d.rootFirstLeafPageID = id
	e := d.at(id) + pageHeaderSize
	d.rootLeafFirstEntry = e
	pos, ksize := native.Uint32(content[e+4:]), native.Uint32(content[e+8:])
	if key := string(content[e+int(pos) : e+int(pos+ksize)]); key != "a-small-one" {
		t.Fatalf("first key of the root tree = %q", key)
	}
	d.inlineValue = e + int(pos+ksize)
	if native.Uint64(content[d.inlineValue:]) != 0 {
		t.Fatal("a-small-one is not inline")
	}
	return d
}

// setMetaHWM writes hwm into both meta pages, with valid checksums.
func (d *damagedFile) setMetaHWM(c []byte, hwm uint64) {
	for i := range 2 {
		m := c[i*d.ps+metaOffset:]
		native.PutUint64(m[40:], hwm)
		sum := fnv.New64a()
		sum.Write(m[:metaSumLength])
		native.PutUint64(m[metaSumLength:], sum.Sum64())
	}
}

// TestCheckRejectsDamage: each kind of damage bbolt would trust is refused
// with ErrNotDatabase and a message naming it, and the file is left as it
// was.
func TestCheckRejectsDamage(t *testing.T) {
	d := newDamagedFile(t)
	tests := []struct {
		name    string
		damage  func(c []byte)
		all     bool // found only with CheckAllPages
		message string
	}{
		{"overflow past the end", func(c []byte) {
			native.PutUint32(c[d.at(d.rootFirstLeafPageID)+12:], 0xFFFFFFFF)
		}, false, "overflow pages run past"},
		{"page carries another id", func(c []byte) {
			native.PutUint64(c[d.at(d.rootFirstLeafPageID):], 12345)
		}, false, "is marked as page 12345"},
		{"page of an unknown type", func(c []byte) {
			native.PutUint16(c[d.at(d.rootFirstLeafPageID)+8:], 0x20)
		}, false, "not a branch or leaf"},
		{"leaf entry past its page", func(c []byte) {
			native.PutUint32(c[d.rootLeafFirstEntry+4:], 0xFFFFFF)
		}, false, "runs past the page"},
		{"bucket header cut short", func(c []byte) {
			native.PutUint32(c[d.rootLeafFirstEntry+12:], bucketHeader-1) // value size
		}, false, "15-byte header"},
		{"inline bucket entries past its value", func(c []byte) {
			native.PutUint16(c[d.inlineValue+bucketHeader+10:], 1000)
		}, false, "do not fit"},
		{"freelist lists a meta page", func(c []byte) {
			native.PutUint64(c[d.at(d.meta.freelist)+pageHeaderSize:], 1)
		}, false, "cannot be free"},
		{"freelist lists a page of the root tree", func(c []byte) {
			native.PutUint64(c[d.at(d.meta.freelist)+pageHeaderSize:], d.rootFirstLeafPageID)
		}, false, "in use and on the freelist"},
		{"freelist count past its page", func(c []byte) {
			native.PutUint16(c[d.at(d.meta.freelist)+10:], 0xFFFF)
			native.PutUint64(c[d.at(d.meta.freelist)+pageHeaderSize:], 1<<40)
		}, false, "lists 1099511627776 pages"},
		{"high-water mark past the end of the file", func(c []byte) {
			d.setMetaHWM(c, uint64(len(c)/d.ps+10))
		}, false, "does not fit a file"},
		{"branch pointing back to itself", func(c []byte) {
			native.PutUint64(c[d.at(d.cofferRoot)+pageHeaderSize+8:], d.cofferRoot)
		}, true, "reached twice"},
		{"freelist lists a page of a bucket", func(c []byte) {
			native.PutUint64(c[d.at(d.meta.freelist)+pageHeaderSize:], d.cofferRoot)
		}, true, "in use and on the freelist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := bytes.Clone(d.content)
			tc.damage(c)
			if bytes.Equal(c, d.content) {
				t.Fatal("the damage changed nothing")
			}
			dir := writeFile(t, c)
			if !tc.all {
				_, err := Open(dir, Options{NoSync: true})
				checkDamageError(t, err, tc.message)
			}
			_, err := Open(dir, Options{NoSync: true, CheckAllPages: true})
			checkDamageError(t, err, tc.message)
			after, rerr := os.ReadFile(filepath.Join(dir, FileName))
			if rerr != nil {
				t.Fatal(rerr)
			}
			if !bytes.Equal(after, c) {
				t.Error("Open changed the damaged file")
			}
		})
	}
}

func checkDamageError(t *testing.T, err error, message string) {
	t.Helper()
	if !errors.Is(err, ErrNotDatabase) || !strings.Contains(err.Error(), message) {
		t.Fatalf("Open = %v; want ErrNotDatabase saying %q", err, message)
	}
}
