package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt trusts every page of a file once a meta page's checksum matches. A
// damaged page can then do worse than fail: an overflow count of four
// billion makes the next write free four billion page ids one by one, a
// branch that points back up its tree recurses until the stack is gone
// (which no recover catches), and a key that points past its page reads
// whatever follows. So before bbolt is given an existing file, checkFile
// reads the structure it is about to rely on straight from the file.
//
// The layout below is bbolt's file format (go.etcd.io/bbolt/internal/common:
// page.go, meta.go, bucket.go), in the machine's byte order as bbolt
// writes it.
const (
	pageHeaderSize = 16 // id uint64, flags uint16, count uint16, overflow uint32
	elementSize    = 16 // branch: pos, ksize uint32, pgid uint64; leaf: flags, pos, ksize, vsize uint32
	bucketHeader   = 16 // root pgid uint64, sequence uint64

	branchPage   = 0x01
	leafPage     = 0x02
	freelistPage = 0x10
	bucketLeaf   = 0x01 // leaf element flag: the value is a bucket

	metaMagic      = 0xED0CDAED
	metaVersion    = 2
	noFreelist     = ^uint64(0)
	metaOffset     = pageHeaderSize
	metaSumLength  = 56 // magic through txid: the bytes the checksum covers
	metaPageLength = metaOffset + metaSumLength + 8
)

var native = binary.NativeEndian

// meta is the part of a meta page the check needs.
type meta struct {
	root, freelist, hwm, txid uint64
}

// readMeta returns the meta bbolt will use: the valid one of the two with
// the higher transaction id, the first on a tie (bbolt's DB.meta).
func readMeta(r io.ReaderAt, pageSize int64) (meta, error) {
	var metas [2]meta
	var valid [2]bool
	for i := range metas {
		buf := make([]byte, metaPageLength)
		if _, err := r.ReadAt(buf, int64(i)*pageSize); err != nil {
			continue
		}
		m := buf[metaOffset:]
		sum := fnv.New64a()
		sum.Write(m[:metaSumLength])
		valid[i] = native.Uint32(m[0:]) == metaMagic && native.Uint32(m[4:]) == metaVersion &&
			native.Uint64(m[metaSumLength:]) == sum.Sum64()
		metas[i] = meta{root: native.Uint64(m[16:]), freelist: native.Uint64(m[32:]),
			hwm: native.Uint64(m[40:]), txid: native.Uint64(m[48:])}
	}
	first, second := 0, 1
	if metas[1].txid > metas[0].txid {
		first, second = 1, 0
	}
	switch {
	case valid[first]:
		return metas[first], nil
	case valid[second]:
		return metas[second], nil
	}
	return meta{}, errors.New("no valid meta page")
}

// checkFile checks the structure of the bbolt file at path, whose pages are
// pageSize bytes: the meta's bounds, the freelist page and every id on it,
// and the pages of the root bucket's tree, or with all of every bucket's
// tree (as when the file stores no freelist: bbolt then walks them all
// itself). Each page must lie below the high-water mark, carry its own id
// and a branch or leaf type, be reached once and not be free; each
// element's key and value must lie within its page, and each inline
// bucket's entries within its value. It reads page headers, element tables
// and bucket headers; never keys, nor values other than buckets'.
func checkFile(path string, pageSize int, all bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	ps := int64(pageSize)
	m, err := readMeta(f, ps)
	if err != nil {
		return err
	}
	if m.hwm < 2 || m.hwm > uint64(info.Size()/ps) {
		return fmt.Errorf("high-water mark of %d pages does not fit a file of %d bytes", m.hwm, info.Size())
	}
	c := &checker{r: f, pageSize: ps, hwm: m.hwm, seen: newBitmap(m.hwm), free: newBitmap(m.hwm)}
	c.seen.set(0)
	c.seen.set(1)
	if m.freelist != noFreelist {
		if err := c.freelist(m.freelist); err != nil {
			return err
		}
	}
	return c.tree(m.root, all || m.freelist == noFreelist)
}

// checker walks one file's pages, remembering which it has seen and which
// the freelist holds.
type checker struct {
	r        io.ReaderAt
	pageSize int64
	hwm      uint64
	seen     bitmap
	free     bitmap
}

// pageInfo is a page's header, checked.
type pageInfo struct {
	id           uint64
	flags, count uint16
	span         uint64 // the page and its overflow pages, in bytes
}

// page reads the header of page id, checks the page's bounds and marks its
// span seen.
func (c *checker) page(id uint64) (pageInfo, error) {
	if id < 2 || id >= c.hwm {
		return pageInfo{}, fmt.Errorf("page %d is outside the file's %d pages", id, c.hwm)
	}
	var hdr [pageHeaderSize]byte
	if _, err := c.r.ReadAt(hdr[:], int64(id)*c.pageSize); err != nil {
		return pageInfo{}, fmt.Errorf("page %d: %w", id, err)
	}
	if got := native.Uint64(hdr[0:]); got != id {
		return pageInfo{}, fmt.Errorf("page %d is marked as page %d", id, got)
	}
	overflow := uint64(native.Uint32(hdr[12:]))
	if overflow >= c.hwm-id {
		return pageInfo{}, fmt.Errorf("page %d: %d overflow pages run past the file's %d pages", id, overflow, c.hwm)
	}
	for p := id; p <= id+overflow; p++ {
		if c.seen.has(p) {
			return pageInfo{}, fmt.Errorf("page %d is reached twice", p)
		}
		if c.free.has(p) {
			return pageInfo{}, fmt.Errorf("page %d is in use and on the freelist", p)
		}
		c.seen.set(p)
	}
	return pageInfo{id: id, flags: native.Uint16(hdr[8:]), count: native.Uint16(hdr[10:]),
		span: (overflow + 1) * uint64(c.pageSize)}, nil
}

// body reads the n bytes that follow p's header, which must lie within p.
func (c *checker) body(p pageInfo, n uint64) ([]byte, error) {
	if n > p.span-pageHeaderSize {
		return nil, fmt.Errorf("page %d: %d bytes of entries do not fit its %d bytes", p.id, n, p.span)
	}
	b := make([]byte, n)
	if _, err := c.r.ReadAt(b, int64(p.id)*c.pageSize+pageHeaderSize); err != nil {
		return nil, fmt.Errorf("page %d: %w", p.id, err)
	}
	return b, nil
}

// freelist checks the freelist page and marks every page id it lists free.
func (c *checker) freelist(id uint64) error {
	p, err := c.page(id)
	if err != nil {
		return err
	}
	if p.flags != freelistPage {
		return fmt.Errorf("freelist page %d has type %#x", id, p.flags)
	}
	n, skip := uint64(p.count), uint64(0)
	if p.count == 0xFFFF { // the real count is the first element
		first, err := c.body(p, 8)
		if err != nil {
			return err
		}
		n, skip = native.Uint64(first), 1
	}
	if n > c.hwm {
		return fmt.Errorf("freelist page %d lists %d pages of %d", id, n, c.hwm)
	}
	ids, err := c.body(p, 8*(skip+n))
	if err != nil {
		return err
	}
	for i := skip; i < skip+n; i++ {
		free := native.Uint64(ids[8*i:])
		if free < 2 || free >= c.hwm || c.seen.has(free) || c.free.has(free) {
			return fmt.Errorf("freelist page %d lists page %d, which cannot be free", id, free)
		}
		c.free.set(free)
	}
	return nil
}

// tree walks the B+tree rooted at page root, and with all the trees of the
// buckets it holds, without recursion.
func (c *checker) tree(root uint64, all bool) error {
	stack := []uint64{root}
	for len(stack) > 0 {
		p, err := c.page(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		if err != nil {
			return err
		}
		if p.flags != branchPage && p.flags != leafPage {
			return fmt.Errorf("page %d has type %#x, not a branch or leaf", p.id, p.flags)
		}
		if p.flags == branchPage && p.count == 0 {
			return fmt.Errorf("branch page %d is empty", p.id)
		}
		elems, err := c.body(p, elementSize*uint64(p.count))
		if err != nil {
			return err
		}
		for i := range uint64(p.count) {
			children, err := c.element(p, i, elems[elementSize*i:], all)
			if err != nil {
				return err
			}
			stack = append(stack, children...)
		}
	}
	return nil
}

// element checks element i of page p, e its bytes, and returns the pages it
// leads to: a branch's child, or with all a bucket's root page.
func (c *checker) element(p pageInfo, i uint64, e []byte, all bool) ([]uint64, error) {
	start := pageHeaderSize + elementSize*i // pos counts from the element
	if p.flags == branchPage {
		pos, ksize := uint64(native.Uint32(e[0:])), uint64(native.Uint32(e[4:]))
		if start+pos+ksize > p.span {
			return nil, fmt.Errorf("branch page %d: key %d runs past the page", p.id, i)
		}
		return []uint64{native.Uint64(e[8:])}, nil
	}
	flags := native.Uint32(e[0:])
	pos, ksize, vsize := uint64(native.Uint32(e[4:])), uint64(native.Uint32(e[8:])), uint64(native.Uint32(e[12:]))
	if start+pos+ksize+vsize > p.span {
		return nil, fmt.Errorf("leaf page %d: entry %d runs past the page", p.id, i)
	}
	if flags&bucketLeaf == 0 {
		return nil, nil
	}
	if vsize < bucketHeader {
		return nil, fmt.Errorf("leaf page %d: bucket %d has a %d-byte header", p.id, i, vsize)
	}
	value := make([]byte, vsize)
	if _, err := c.r.ReadAt(value, int64(p.id)*c.pageSize+int64(start+pos+ksize)); err != nil {
		return nil, fmt.Errorf("page %d: %w", p.id, err)
	}
	if sub := native.Uint64(value); sub != 0 {
		if all {
			return []uint64{sub}, nil
		}
		return nil, nil
	}
	if err := checkInline(value[bucketHeader:]); err != nil {
		return nil, fmt.Errorf("leaf page %d: bucket %d: %w", p.id, i, err)
	}
	return nil, nil
}

// checkInline checks an inline bucket: a leaf page stored in its parent's
// value, b, whose entries must lie within b and hold no buckets (bbolt
// inlines only buckets without sub-buckets).
func checkInline(b []byte) error {
	if len(b) < pageHeaderSize {
		return fmt.Errorf("inline page of %d bytes", len(b))
	}
	if flags := native.Uint16(b[8:]); flags != leafPage {
		return fmt.Errorf("inline page has type %#x", flags)
	}
	count := uint64(native.Uint16(b[10:]))
	if pageHeaderSize+elementSize*count > uint64(len(b)) {
		return fmt.Errorf("inline page's %d entries do not fit its %d bytes", count, len(b))
	}
	for i := range count {
		start := pageHeaderSize + elementSize*i
		e := b[start:]
		pos, ksize, vsize := uint64(native.Uint32(e[4:])), uint64(native.Uint32(e[8:])), uint64(native.Uint32(e[12:]))
		if native.Uint32(e[0:])&bucketLeaf != 0 {
			return fmt.Errorf("inline page holds a bucket at entry %d", i)
		}
		if start+pos+ksize+vsize > uint64(len(b)) {
			return fmt.Errorf("inline page: entry %d runs past the page", i)
		}
	}
	return nil
}

// bitmap is a set of page ids below a bound.
type bitmap []uint64

func newBitmap(n uint64) bitmap    { return make(bitmap, (n+63)/64) }
func (b bitmap) has(i uint64) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitmap) set(i uint64)      { b[i/64] |= 1 << (i % 64) }
