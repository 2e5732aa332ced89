package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// yamlWalker finds the scalar values of a YAML (or JSON) body and their
// exact source spans. yaml.v3 gives each node's start; the end is found by
// scanning the source by the scalar's style, and every span is checked by
// decoding it again, so a layout we do not understand is an error, never a
// silently mangled file.
type yamlWalker struct{}

// yamlSource indexes a body by line for rune-column lookups.
type yamlSource struct {
	body  []byte
	lines []int // byte offset of each line start
}

func newYAMLSource(body []byte) *yamlSource {
	s := &yamlSource{body: body, lines: []int{0}}
	for i, c := range body {
		if c == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

// offset converts a 1-based line and rune column to a byte offset.
func (s *yamlSource) offset(line, col int) (int, error) {
	if line < 1 || line > len(s.lines) {
		return 0, fmt.Errorf("%w: line %d out of range", ErrUnsupported, line)
	}
	off := s.lines[line-1]
	for c := 1; c < col; c++ {
		if off >= len(s.body) || s.body[off] == '\n' {
			return 0, fmt.Errorf("%w: column %d out of range on line %d", ErrUnsupported, col, line)
		}
		_, n := utf8.DecodeRune(s.body[off:])
		off += n
	}
	return off, nil
}

func (yamlWalker) fields(body []byte) ([]field, error) {
	if err := checkLineBreaks(body); err != nil {
		return nil, err
	}
	src := newYAMLSource(body)
	dec := yaml.NewDecoder(bytes.NewReader(body))
	var out []field
	for doc := 0; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: parsing yaml: %v", ErrUnsupported, err)
		}
		if len(n.Content) == 0 {
			continue
		}
		root := n.Content[0]
		kind := kubeKind(root)
		w := &yamlWalk{src: src, doc: doc, secret: kind == "Secret"}
		if err := w.node(root, nil, 0, false, kind == ""); err != nil {
			return nil, err
		}
		out = append(out, w.out...)
	}
}

// checkLineBreaks refuses the line breaks YAML counts but the walker's line
// index does not: a carriage return on its own and the Unicode NEL, LS and
// PS characters. yaml.v3 reports positions by its own line count, so with
// any of these in the body every span after it would be misplaced.
func checkLineBreaks(body []byte) error {
	for i := 0; i < len(body); i++ {
		switch {
		case body[i] == '\r' && (i+1 == len(body) || body[i+1] != '\n'):
			return fmt.Errorf("%w: line %d ends in a lone carriage return; use \\n or \\r\\n line endings",
				ErrUnsupported, bytes.Count(body[:i], []byte{'\n'})+1)
		case body[i] == 0xC2 && i+1 < len(body) && body[i+1] == 0x85,
			body[i] == 0xE2 && i+2 < len(body) && body[i+1] == 0x80 && (body[i+2] == 0xA8 || body[i+2] == 0xA9):
			return fmt.Errorf("%w: line %d holds a Unicode line or paragraph separator (NEL, U+2028 or U+2029), which YAML reads as a line break",
				ErrUnsupported, bytes.Count(body[:i], []byte{'\n'})+1)
		}
	}
	return nil
}

// kubeKind returns the kind of a Kubernetes manifest (a mapping with
// apiVersion and kind), "" for other documents. Of a Secret ("Secret" in
// apiVersion v1) only the data and stringData values are sealed; other
// manifests hold nothing secret and are left alone.
func kubeKind(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	var kind, api string
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "kind":
			kind = n.Content[i+1].Value
		case "apiVersion":
			api = n.Content[i+1].Value
		}
	}
	switch {
	case api == "" || kind == "":
		return ""
	case kind == "Secret" && api != "v1":
		return "Secret." + api
	}
	return kind
}

type yamlWalk struct {
	src    *yamlSource
	doc    int
	secret bool
	out    []field
}

// node walks n at path p; flow is set inside flow collections, sel when
// values here are sealed.
// indent is the column (0-based) of the collection holding n.
func (w *yamlWalk) node(n *yaml.Node, p keyPath, indent int, flow, sel bool) error {
	flow = flow || n.Style&yaml.FlowStyle != 0
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			childSel := sel
			if w.secret && len(p) == 0 {
				childSel = k == "data" || k == "stringData"
			}
			if err := w.node(n.Content[i+1], p.key(k), n.Column-1, flow, childSel); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := w.node(c, p.index(i), n.Column-1, flow, sel); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		if n.Tag == "!!null" || len(p) == 0 {
			return nil
		}
		f, err := w.scalar(n, p, indent, flow)
		if err != nil {
			return err
		}
		f.selectable = sel
		w.out = append(w.out, f)
	}
	return nil
}

// scalar finds the source span of a scalar node and checks it.
func (w *yamlWalk) scalar(n *yaml.Node, p keyPath, indent int, flow bool) (field, error) {
	start, err := w.src.offset(n.Line, n.Column)
	if err != nil {
		return field{}, fmt.Errorf("at %s: %w", describe(w.doc, p.String()), err)
	}
	start = skipProperties(w.src.body, start, n)
	end, err := scalarEnd(w.src, start, n, indent, flow)
	if err != nil {
		return field{}, fmt.Errorf("at %s: %w", describe(w.doc, p.String()), err)
	}
	if err := checkSpan(w.src.body[start:end], n); err != nil {
		return field{}, fmt.Errorf("at %s (line %d): %w", describe(w.doc, p.String()), n.Line, err)
	}
	quote := flow || n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
	return field{doc: w.doc, path: p.String(), start: start, end: end, value: n.Value, quote: quote}, nil
}

// skipProperties moves past an anchor (&a) and an explicit tag (!!str),
// which yaml.v3 includes in the node's position.
func skipProperties(body []byte, off int, n *yaml.Node) int {
	for i := 0; i < 2 && off < len(body) && (body[off] == '&' || body[off] == '!'); i++ {
		for off < len(body) && !isSpace(body[off]) {
			off++
		}
		for off < len(body) && isSpace(body[off]) {
			off++
		}
	}
	return off
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// checkSpan decodes raw on its own and compares it with the node's value.
// Single-line plain and simply quoted values, the common case, are checked
// by comparison without decoding.
func checkSpan(raw []byte, n *yaml.Node) error {
	if simpleScalar(string(raw), n) {
		return nil
	}
	var d yaml.Node
	if err := yaml.Unmarshal(append(append([]byte(nil), raw...), '\n'), &d); err != nil || len(d.Content) != 1 {
		return fmt.Errorf("%w: cannot isolate this value's source text", ErrUnsupported)
	}
	got, want := d.Content[0].Value, n.Value
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		got, want = strings.TrimRight(got, "\n"), strings.TrimRight(want, "\n")
	}
	if got != want {
		return fmt.Errorf("%w: cannot isolate this value's source text", ErrUnsupported)
	}
	return nil
}

// scalarEnd returns the end of the scalar starting at off.
func scalarEnd(s *yamlSource, off int, n *yaml.Node, indent int, flow bool) (int, error) {
	b := s.body
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := off + 1; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := off + 1; i < len(b); i++ {
			if b[i] == '\'' {
				if i+1 < len(b) && b[i+1] == '\'' {
					i++
					continue
				}
				return i + 1, nil
			}
		}
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return blockEnd(s, off, n, indent), nil
	default:
		return plainEnd(s, off, n, indent, flow), nil
	}
	return 0, fmt.Errorf("%w: unterminated quoted value", ErrUnsupported)
}

// blockEnd returns the end of a literal or folded block scalar: the end of
// its last non-blank line more indented than the collection holding it.
func blockEnd(s *yamlSource, off int, n *yaml.Node, parent int) int {
	end := lineEnd(s.body, off)
	for l := n.Line; l < len(s.lines); l++ {
		line := s.body[s.lines[l]:lineEnd(s.body, s.lines[l])]
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if indentOf(line) <= parent {
			break
		}
		end = s.lines[l] + len(line)
	}
	return end
}

// plainEnd returns the end of a plain scalar: the end of its line (before a
// comment or, in flow context, an indicator), continued over more indented
// lines when the value spans several.
func plainEnd(s *yamlSource, off int, n *yaml.Node, parent int, flow bool) int {
	end := plainLineEnd(s.body, off, flow)
	if strings.Contains(n.Value, " ") && !bytes.Contains(s.body[off:end], []byte(n.Value)) && !flow {
		for l := n.Line; l < len(s.lines); l++ {
			line := s.body[s.lines[l]:lineEnd(s.body, s.lines[l])]
			t := bytes.TrimSpace(line)
			if len(t) == 0 {
				continue
			}
			if indentOf(line) <= parent || t[0] == '#' {
				break
			}
			end = plainLineEnd(s.body, s.lines[l]+indentOf(line), false)
		}
	}
	return end
}

func plainLineEnd(b []byte, off int, flow bool) int {
	end := off
	for i := off; i < len(b) && b[i] != '\n'; i++ {
		c := b[i]
		if c == '#' && i > off && (b[i-1] == ' ' || b[i-1] == '\t') {
			break
		}
		if flow && (c == ',' || c == ']' || c == '}') {
			break
		}
		if c == ':' && flow && (i+1 == len(b) || isSpace(b[i+1])) {
			break
		}
		if !isSpace(c) {
			end = i + 1
		}
	}
	return end
}

func lineEnd(b []byte, off int) int {
	if i := bytes.IndexByte(b[off:], '\n'); i >= 0 {
		end := off + i
		if end > off && b[end-1] == '\r' {
			end--
		}
		return end
	}
	return len(b)
}

func indentOf(line []byte) int {
	i := 0
	for i < len(line) && line[i] == ' ' {
		i++
	}
	return i
}

// simpleScalar reports whether raw is obviously n's source text.
func simpleScalar(raw string, n *yaml.Node) bool {
	if strings.ContainsAny(raw, "\n\\") {
		return false
	}
	switch {
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0:
		return raw == n.Value
	case n.Style&yaml.DoubleQuotedStyle != 0:
		return raw == `"`+n.Value+`"`
	case n.Style&yaml.SingleQuotedStyle != 0:
		return !strings.Contains(n.Value, "'") && raw == "'"+n.Value+"'"
	}
	return false
}
