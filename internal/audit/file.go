package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// fileDest appends lines to a file. open reads the file's last complete
// line so the chain continues across restarts.
type fileDest struct {
	path string
	mode os.FileMode
	f    *os.File
	size int64
	// wb moves what was written to disk and out of the page cache, for a
	// regular file (regular).
	wb      writeback
	regular bool
}

func (d *fileDest) open() ([]byte, bool, error) {
	f, err := os.OpenFile(d.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, d.mode)
	if err != nil {
		return nil, false, fmt.Errorf("open %s: %w", d.path, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("stat %s: %w", d.path, err)
	}
	last, partial, err := lastLine(f, info.Size())
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("read the tail of %s: %w", d.path, err)
	}
	d.f, d.size = f, info.Size()
	d.regular = info.Mode().IsRegular()
	d.wb.reset(d.size)
	if partial {
		// A crash cut the last line. Keep it (it is evidence) and start the
		// next line on its own; verify reports the cut line.
		if err := d.write([]byte{'\n'}); err != nil {
			return nil, false, err
		}
	}
	return last, last == nil && d.size == 0, nil
}

// lastLine returns the last complete line of a file of the given size, and
// whether bytes follow it without a newline.
func lastLine(r io.ReaderAt, size int64) ([]byte, bool, error) {
	const chunk = 64 << 10
	var buf []byte
	for off := size; off > 0; {
		n := min(int64(chunk), off)
		off -= n
		b := make([]byte, n)
		if _, err := r.ReadAt(b, off); err != nil {
			return nil, false, err
		}
		buf = append(b, buf...)
		end := bytes.LastIndexByte(buf, '\n')
		if end < 0 {
			if len(buf) > MaxLineSize {
				return nil, false, errors.New("last line longer than the maximum entry size")
			}
			continue
		}
		partial := end != len(buf)-1
		if start := bytes.LastIndexByte(buf[:end], '\n'); start >= 0 || off == 0 {
			return buf[start+1 : end], partial, nil
		}
	}
	return nil, len(buf) > 0, nil
}

// write appends p whole or, on failure, cuts the file back to its old size.
func (d *fileDest) write(p []byte) error {
	n, err := d.f.Write(p)
	if err != nil {
		if n > 0 {
			_ = d.f.Truncate(d.size)
		}
		return fmt.Errorf("write %s: %w", d.path, err)
	}
	d.size += int64(n)
	if d.regular {
		d.wb.wrote(d.f, d.size)
	}
	return nil
}

func (d *fileDest) close() error {
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}

// writerDest writes to a stream opened elsewhere (stdout).
type writerDest struct {
	w       io.Writer
	started bool
}

func (d *writerDest) open() ([]byte, bool, error) {
	fresh := !d.started
	d.started = true
	return nil, fresh, nil
}

func (d *writerDest) write(p []byte) error {
	_, err := d.w.Write(p)
	return err
}

func (d *writerDest) close() error { return nil }
