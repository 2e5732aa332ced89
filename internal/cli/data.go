package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxInputBytes bounds what one data argument reads from a file or stdin.
const maxInputBytes = 32 << 20

// errStdinUsed is returned when two arguments both ask for stdin.
var errStdinUsed = errors.New("stdin already consumed by an earlier argument")

// dataBuilder collects request data from command-line arguments the way the
// Vault CLI does:
//
//	key=value    a string value
//	key=@file    the file's contents
//	key=\@text   the literal "@text"
//	key=-        all of stdin
//	-            a JSON object read from stdin, merged in
//	@file.json   a JSON object read from the file, merged in
//
// A key given twice becomes a list of its values.
type dataBuilder struct {
	stdin     io.Reader
	stdinUsed bool
	result    map[string]any
}

// parseData builds the data map of args, reading stdin for "-" at most once.
func parseData(args []string, stdin io.Reader) (map[string]any, error) {
	b := &dataBuilder{stdin: stdin, result: map[string]any{}}
	for _, arg := range args {
		if err := b.add(arg); err != nil {
			return nil, fmt.Errorf("parse argument %q: %w", truncate(arg), err)
		}
	}
	return b.result, nil
}

func (b *dataBuilder) add(arg string) error {
	if arg == "" {
		return nil
	}
	key, value, ok := strings.Cut(arg, "=")
	if !ok {
		switch {
		case arg == "-":
			r, err := b.takeStdin()
			if err != nil {
				return err
			}
			return b.mergeJSON(r)
		case arg[0] == '@':
			f, err := os.Open(arg[1:])
			if err != nil {
				return fmt.Errorf("open data file: %w", err)
			}
			defer f.Close()
			return b.mergeJSON(f)
		}
		return errors.New("format must be key=value, -, or @file")
	}
	if key == "" {
		return errors.New("empty key")
	}
	v, err := b.value(value)
	if err != nil {
		return err
	}
	b.set(key, v)
	return nil
}

// value resolves @file, \@ and - in a value.
func (b *dataBuilder) value(v string) (string, error) {
	switch {
	case strings.HasPrefix(v, "@"):
		data, err := readLimited(v[1:])
		if err != nil {
			return "", err
		}
		return string(data), nil
	case strings.HasPrefix(v, `\@`):
		return v[1:], nil
	case v == "-":
		r, err := b.takeStdin()
		if err != nil {
			return "", err
		}
		data, err := io.ReadAll(io.LimitReader(r, maxInputBytes))
		if err != nil {
			return "", fmt.Errorf("read stdin: %w", err)
		}
		return string(data), nil
	}
	return v, nil
}

// set stores v under key, turning repeated keys into a list.
func (b *dataBuilder) set(key string, v any) {
	old, exists := b.result[key]
	if !exists {
		b.result[key] = v
		return
	}
	if list, ok := old.([]any); ok {
		b.result[key] = append(list, v)
		return
	}
	b.result[key] = []any{old, v}
}

func (b *dataBuilder) takeStdin() (io.Reader, error) {
	if b.stdin == nil {
		return nil, errors.New("stdin is not available")
	}
	if b.stdinUsed {
		return nil, errStdinUsed
	}
	b.stdinUsed = true
	return b.stdin, nil
}

// mergeJSON merges one JSON object from r into the result.
func (b *dataBuilder) mergeJSON(r io.Reader) error {
	dec := json.NewDecoder(io.LimitReader(r, maxInputBytes))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return fmt.Errorf("decode JSON object: %w", err)
	}
	for k, v := range obj {
		b.result[k] = v
	}
	return nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read data file: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(f, maxInputBytes+1)); err != nil {
		return nil, fmt.Errorf("read data file: %w", err)
	}
	if buf.Len() > maxInputBytes {
		return nil, fmt.Errorf("read data file: %s is larger than %d bytes", path, maxInputBytes)
	}
	return buf.Bytes(), nil
}

// truncate shortens an argument for an error message; values can be secrets,
// so only the key part is shown.
func truncate(arg string) string {
	if k, _, ok := strings.Cut(arg, "="); ok {
		return k + "=..."
	}
	if len(arg) > 40 {
		return arg[:40] + "..."
	}
	return arg
}
