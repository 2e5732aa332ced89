package gitops

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// dotenvWalker finds the values of a .env file: lines NAME=value, with an
// optional "export " prefix; blank lines and # comments are kept as they are.
type dotenvWalker struct{}

func (dotenvWalker) fields(body []byte) ([]field, error) {
	var out []field
	for off, n := 0, 1; off < len(body); n++ {
		end := lineEnd(body, off)
		next := end
		for next < len(body) && body[next] != '\n' {
			next++
		}
		line := body[off:end]
		t := bytes.TrimLeft(line, " \t")
		if len(t) > 0 && t[0] != '#' {
			f, err := dotenvField(body, off, line, n)
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

func dotenvField(body []byte, off int, line []byte, n int) (field, error) {
	eq := bytes.IndexByte(line, '=')
	if eq <= 0 {
		return field{}, fmt.Errorf("%w: .env line %d is not NAME=value", ErrUnsupported, n)
	}
	name := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(line[:eq])), "export "))
	if name == "" || strings.ContainsAny(name, " \t") {
		return field{}, fmt.Errorf("%w: .env line %d has a bad name", ErrUnsupported, n)
	}
	start := eq + 1
	for start < len(line) && (line[start] == ' ' || line[start] == '\t') {
		start++
	}
	end := len(bytes.TrimRight(line, " \t"))
	if end < start {
		end = start
	}
	v := string(line[start:end])
	return field{path: name, start: off + start, end: off + end, value: v, selectable: true}, nil
}

// ParseEnv parses an unsealed .env file into NAME=value pairs in order, as
// shells and Docker read them: "double quoted" values take \n, \t, \" and
// \\ escapes, 'single quoted' values are literal, bare values end at " #".
func ParseEnv(body []byte) ([]string, error) {
	fs, err := dotenvWalker{}.fields(body)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		v, err := envValue(f.value)
		if err != nil {
			return nil, fmt.Errorf("%w: .env value of %s: %v", ErrUnsupported, f.path, err)
		}
		out = append(out, f.path+"="+v)
	}
	return out, nil
}

func envValue(v string) (string, error) {
	switch {
	case strings.HasPrefix(v, `"`):
		end := strings.LastIndexByte(v, '"')
		if end == 0 {
			return "", fmt.Errorf("unterminated quote")
		}
		return strconv.Unquote(`"` + strings.ReplaceAll(v[1:end], `\$`, `$`) + `"`)
	case strings.HasPrefix(v, "'"):
		end := strings.LastIndexByte(v, '\'')
		if end == 0 {
			return "", fmt.Errorf("unterminated quote")
		}
		return v[1:end], nil
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimRight(v[:i], " \t")
	}
	return v, nil
}
