package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every error that reports a configuration problem:
// a syntax error, an unknown key, a malformed value or a broken cross-field
// rule. errors.Is(err, ErrInvalid) tells a bad file apart from an unreadable
// one.
var ErrInvalid = errors.New("invalid configuration")

// fieldError is one configuration problem. It prints as
//
//	file:line: block "label": field: problem
//
// leaving out the parts it does not know (a config built in Go has no file
// or line). Its message never contains option values that may be secret.
type fieldError struct {
	file  string
	line  int
	block string // `listener "tcp"`, `storage "raft": retry_join`, or "" at top level
	field string // the key the problem is about, or ""
	msg   string
}

func (e *fieldError) Error() string {
	var b strings.Builder
	if e.file != "" {
		b.WriteString(e.file)
		if e.line > 0 {
			b.WriteString(":" + strconv.Itoa(e.line))
		}
		b.WriteString(": ")
	} else if e.line > 0 {
		b.WriteString("line " + strconv.Itoa(e.line) + ": ")
	}
	if e.block != "" {
		b.WriteString(e.block + ": ")
	}
	if e.field != "" {
		b.WriteString(e.field + ": ")
	}
	b.WriteString(e.msg)
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *fieldError) Unwrap() error { return ErrInvalid }

// lineError carries the line of a value inside an attribute (one element of
// a list) so the report points at it rather than at the key.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return e.msg }

// report collects problems, each placed by file and line. Lines come from
// the source map built while decoding: a problem about "listener[0].address"
// is reported at that key's line, or at its block's line when the key is
// absent from the file (a required field left out).
type report struct {
	file  string
	lines map[string]int
	errs  []error
}

func newReport(file string) *report {
	return &report{file: file, lines: map[string]int{}}
}

// at records that the source key was declared at line (0 when unknown).
func (r *report) at(key string, line int) {
	r.lines[key] = line
}

// lineOf returns the line of key, of its enclosing block, or 0.
func (r *report) lineOf(key string) int {
	for key != "" {
		if l := r.lines[key]; l > 0 {
			return l
		}
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			return 0
		}
		key = key[:i]
	}
	return 0
}

// failAt records a problem at an explicit line.
func (r *report) failAt(line int, block, field, format string, args ...any) {
	r.errs = append(r.errs, &fieldError{
		file: r.file, line: line, block: block, field: field,
		msg: fmt.Sprintf(format, args...),
	})
}

// fail records a problem about the source key (see lineOf).
func (r *report) fail(key, block, field, format string, args ...any) {
	r.failAt(r.lineOf(key), block, field, format, args...)
}

// err returns every recorded problem joined, or nil.
func (r *report) err() error {
	return errors.Join(r.errs...)
}
