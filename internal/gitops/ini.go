package gitops

import (
	"bytes"
	"fmt"
	"strings"
)

// iniWalker finds the values of an INI file: [section] headers, key = value
// or key: value lines; ; and # comments and blank lines are kept.
type iniWalker struct{}

func (iniWalker) fields(body []byte) ([]field, error) {
	var out []field
	section := ""
	for off, n := 0, 1; off < len(body); n++ {
		end := lineEnd(body, off)
		next := end
		for next < len(body) && body[next] != '\n' {
			next++
		}
		line := body[off:end]
		t := bytes.TrimSpace(line)
		switch {
		case len(t) == 0 || t[0] == ';' || t[0] == '#':
		case t[0] == '[':
			if t[len(t)-1] != ']' {
				return nil, fmt.Errorf("%w: ini line %d: unterminated section", ErrUnsupported, n)
			}
			section = strings.TrimSpace(string(t[1 : len(t)-1]))
		default:
			f, err := iniField(off, line, section, n)
			if err != nil {
				return nil, err
			}
			if f.end > f.start {
				out = append(out, f)
			}
		}
		off = next + 1
	}
	return out, nil
}

func iniField(off int, line []byte, section string, n int) (field, error) {
	sep := bytes.IndexAny(line, "=:")
	if sep <= 0 {
		return field{}, fmt.Errorf("%w: ini line %d is not key = value", ErrUnsupported, n)
	}
	var p keyPath
	if section != "" {
		p = p.key(section)
	}
	p = p.key(strings.TrimSpace(string(line[:sep])))
	start := sep + 1
	for start < len(line) && (line[start] == ' ' || line[start] == '\t') {
		start++
	}
	end := len(bytes.TrimRight(line, " \t"))
	if end < start {
		end = start
	}
	return field{path: p.String(), start: off + start, end: off + end, value: string(line[start:end]), selectable: true}, nil
}
