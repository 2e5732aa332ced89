package audit

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// VerifyOptions configure a Verifier.
type VerifyOptions struct {
	// PublicKey is the checkpoint key, as sys/audit/public-key serves it.
	PublicKey ed25519.PublicKey
	// Live accepts a log whose end is not a final checkpoint (a file the
	// server is still writing): the unsigned tail is reported, not failed.
	Live bool
}

// Summary describes a log that verified.
type Summary struct {
	Files       int
	Entries     uint64
	FirstSeq    uint64
	LastSeq     uint64
	Checkpoints int
	// LastCheckpoint is the seq of the last checkpoint; Unsigned counts the
	// entries after it (only non-zero with Live).
	LastCheckpoint uint64
	Unsigned       int
	// Genesis is true when the first file starts the chain (seq 1).
	Genesis bool
}

// VerifyError names the first entry that failed verification.
type VerifyError struct {
	File string
	Line int
	// Seq is the entry the failure is about (0 if none can be named).
	Seq uint64
	Msg string
}

func (e *VerifyError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Unwrap makes every VerifyError match ErrTampered.
func (e *VerifyError) Unwrap() error { return ErrTampered }

// Verifier checks a log given as a sequence of files in order. It keeps
// only the previous line, so logs of any size stream through it.
type Verifier struct {
	opts      VerifyOptions
	pubB64    string
	sum       Summary
	prev      []byte // previous line
	prevSeq   uint64
	final     bool
	file      string
	lineNo    int
	hasEntry  bool
	hasSigned bool
}

// NewVerifier returns a Verifier for one log.
func NewVerifier(opts VerifyOptions) *Verifier {
	return &Verifier{opts: opts, pubB64: base64.StdEncoding.EncodeToString(opts.PublicKey)}
}

// Add verifies the next file of the log; it returns the first failure.
func (v *Verifier) Add(name string, r io.Reader) error {
	v.file, v.lineNo = name, 0
	v.sum.Files++
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readLine(br)
		if err == io.EOF {
			return nil
		}
		v.lineNo++
		if err != nil {
			return v.fail(v.prevSeq, "%v after entry seq %d: the file was cut or written partially", err, v.prevSeq)
		}
		if err := v.check(line); err != nil {
			return err
		}
		v.prev = append(v.prev[:0], line...)
	}
}

// errNoNewline marks a last line without its newline.
var errNoNewline = errors.New("the last line is incomplete (no newline)")

// readLine returns the next line without its newline, io.EOF at the end.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > MaxLineSize+1 {
			return nil, errors.New("a line is longer than the maximum entry size")
		}
		switch {
		case err == nil:
			return buf[:len(buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(buf) == 0:
			return nil, io.EOF
		case err == io.EOF:
			return nil, errNoNewline
		default:
			return nil, err
		}
	}
}

func (v *Verifier) fail(seq uint64, format string, args ...any) error {
	return &VerifyError{File: v.file, Line: v.lineNo, Seq: seq, Msg: fmt.Sprintf(format, args...)}
}

// check verifies one line against the previous one.
func (v *Verifier) check(line []byte) error {
	l, err := ParseLine(line)
	if err != nil {
		return v.fail(v.prevSeq+1, "entry after seq %d is not a valid audit entry (edited or forged): %v", v.prevSeq, err)
	}
	if err := v.link(l); err != nil {
		return err
	}
	if l.PublicKey != "" && l.PublicKey != v.pubB64 {
		return v.fail(l.Seq, "entry seq %d records public key %s, not the key given: the log was signed by another server or forged", l.Seq, l.PublicKey)
	}
	v.sum.Entries++
	v.sum.LastSeq, v.prevSeq = l.Seq, l.Seq
	if l.Type != TypeCheckpoint {
		v.sum.Unsigned++
		v.final = false
		return nil
	}
	if !ed25519.Verify(v.opts.PublicKey, l.Signed, l.Signature) {
		return v.fail(l.Seq, "checkpoint seq %d has an invalid signature: it or an entry after checkpoint seq %d was edited, inserted or deleted, or the checkpoint was forged",
			l.Seq, v.sum.LastCheckpoint)
	}
	v.sum.Checkpoints++
	v.sum.LastCheckpoint, v.sum.Unsigned, v.final, v.hasSigned = l.Seq, 0, l.Final, true
	return nil
}

// link checks l's seq and prev_hash against the previous line.
func (v *Verifier) link(l Line) error {
	if !v.hasEntry {
		v.hasEntry = true
		v.sum.FirstSeq, v.sum.Genesis = l.Seq, l.Seq == 1
		if l.Seq == 1 && l.PrevHash != "" {
			return v.fail(1, "entry seq 1 has a prev_hash: the chain's first entry was edited or forged")
		}
		return nil
	}
	want := v.prevSeq + 1
	switch {
	case l.Seq > want:
		return v.fail(want, "entry seq %d is missing before entry seq %d: it was deleted or moved", want, l.Seq)
	case l.Seq < want:
		return v.fail(l.Seq, "entry seq %d is out of order after entry seq %d: entries were reordered or a line was inserted", l.Seq, v.prevSeq)
	}
	sum := sha256.Sum256(v.prev)
	if l.PrevHash != hex.EncodeToString(sum[:]) {
		return v.fail(v.prevSeq, "entry seq %d does not link to entry seq %d: entry seq %d was edited, or entry seq %d was inserted or forged",
			l.Seq, v.prevSeq, v.prevSeq, l.Seq)
	}
	return nil
}

// Finish checks the end of the log and returns its summary.
func (v *Verifier) Finish() (Summary, error) {
	switch {
	case !v.hasEntry:
		return v.sum, &VerifyError{File: v.file, Msg: "the log holds no entries"}
	case !v.hasSigned && !v.opts.Live:
		return v.sum, &VerifyError{File: v.file, Msg: "the log holds no checkpoint: nothing in it is signed"}
	case !v.final && !v.opts.Live:
		return v.sum, &VerifyError{File: v.file, Seq: v.sum.LastCheckpoint, Msg: fmt.Sprintf(
			"entries after checkpoint seq %d are missing or the file was cut: the log does not end with a final checkpoint (%d unsigned entries follow it; use --live for a log the server is still writing)",
			v.sum.LastCheckpoint, v.sum.Unsigned)}
	}
	return v.sum, nil
}

// VerifyBytes verifies one in-memory log; a convenience for tests and tools.
func VerifyBytes(opts VerifyOptions, name string, data []byte) (Summary, error) {
	v := NewVerifier(opts)
	if err := v.Add(name, bytes.NewReader(data)); err != nil {
		return v.sum, err
	}
	return v.Finish()
}
