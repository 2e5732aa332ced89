package netctl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"
)

// maxBlocklistLine bounds one line of a blocklist file.
const maxBlocklistLine = 4096

// LineError is one blocklist line that did not parse; it is skipped.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// ParseBlocklist reads a blocklist: one address, CIDR or "first-last"
// address range per line. Everything after '#' or ';' is a comment, blank
// lines are ignored, and a UTF-8 byte-order mark and CRLF line ends are
// accepted, so FireHOL .netset/.ipset files, Spamhaus DROP lists and
// CrowdSec plain-text exports load unchanged. Lines that do not parse are
// returned as LineErrors and skipped; the error is only for a failed read.
func ParseBlocklist(r io.Reader) (*CIDRSet, []LineError, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxBlocklistLine)
	b := &setBuilder{}
	var bad []LineError
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		if err := b.addLine(string(line)); err != nil {
			bad = append(bad, LineError{Line: n, Err: err})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, bad, fmt.Errorf("netctl: read blocklist: %w", err)
	}
	return b.build(), bad, nil
}

// addLine adds one blocklist line's entry, if it has one.
func (b *setBuilder) addLine(line string) error {
	if i := strings.IndexAny(line, "#;"); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	switch {
	case line == "":
		return nil
	case strings.ContainsAny(line, " \t"):
		return errors.New("more than one entry on the line")
	case strings.Contains(line, "/"):
		p, err := netip.ParsePrefix(line)
		if err != nil {
			return fmt.Errorf("bad CIDR: %w", err)
		}
		b.addPrefix(p)
	case strings.Contains(line, "-"):
		lo, hi, _ := strings.Cut(line, "-")
		a, err1 := netip.ParseAddr(lo)
		z, err2 := netip.ParseAddr(hi)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("bad address range: %w", err)
		}
		if a.Unmap().Is4() != z.Unmap().Is4() || z.Unmap().Less(a.Unmap()) {
			return errors.New("bad address range: ends out of order or of different families")
		}
		b.addRange(a, z)
	default:
		a, err := netip.ParseAddr(line)
		if err != nil {
			return fmt.Errorf("bad address: %w", err)
		}
		b.addRange(a, a)
	}
	return nil
}

// fileStamp identifies a version of the blocklist file.
type fileStamp struct {
	mtime time.Time
	size  int64
}

// loadBlocklist reads and parses path, logging skipped lines. On error the
// caller keeps its previous list.
func (c *Controls) loadBlocklist(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("netctl: open blocklist: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("netctl: stat blocklist: %w", err)
	}
	set, bad, err := ParseBlocklist(f)
	if err != nil {
		return err
	}
	for _, le := range bad {
		c.logger.Warn("netctl: blocklist line skipped", "file", path, "line", le.Line, "error", le.Err)
	}
	c.blocklist.Store(set)
	c.mu.Lock()
	c.stamp = fileStamp{mtime: fi.ModTime(), size: fi.Size()}
	c.mu.Unlock()
	c.logger.Info("netctl: blocklist loaded", "file", path, "ranges", set.Len(), "skipped_lines", len(bad))
	return nil
}

// ReloadBlocklist re-reads the blocklist file now (SIGHUP). An unreadable
// file keeps the previous list and returns the error. Without a
// configured file it does nothing.
func (c *Controls) ReloadBlocklist() error {
	if c.opts.BlocklistFile == "" {
		return nil
	}
	return c.loadBlocklist(c.opts.BlocklistFile)
}

// pollBlocklist reloads the file when its modification time or size
// changed since the last load.
func (c *Controls) pollBlocklist() {
	path := c.opts.BlocklistFile
	fi, err := os.Stat(path)
	if err != nil {
		c.logger.Error("netctl: blocklist unreadable; keeping the previous list", "file", path, "error", err)
		return
	}
	c.mu.Lock()
	same := c.stamp.size == fi.Size() && c.stamp.mtime.Equal(fi.ModTime())
	c.mu.Unlock()
	if same {
		return
	}
	if err := c.loadBlocklist(path); err != nil {
		c.logger.Error("netctl: blocklist reload failed; keeping the previous list", "file", path, "error", err)
	}
}
