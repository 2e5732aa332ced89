package gitops

import (
	"fmt"
	"sort"
	"strconv"
)

// field is one value found in a file body: its place and its source span.
type field struct {
	doc  int    // document index (YAML multi-document files), else 0
	path string // key path (see the package comment)
	// start and end are the byte span of the value's source text in the body.
	start, end int
	// value is the decoded value (for a sealed value, its token).
	value string
	// quote is set where a bare token might not parse (YAML flow
	// collections, JSON, values quoted in the source): the token is
	// written double-quoted.
	quote bool
	// selectable is false for values that are never sealed (a Kubernetes
	// Secret's metadata, for one).
	selectable bool
}

// walker finds the values of a file body in source order.
type walker interface {
	fields(body []byte) ([]field, error)
}

// Selector decides whether the value at a key path is sealed.
// A nil Selector seals every value.
type Selector func(path string) bool

// splice replaces the spans of fields with repl(f), in one pass over body.
// Fields for which repl reports false are left alone; overlapping spans are
// an error.
func splice(body []byte, fs []field, repl func(f field) (string, bool, error)) ([]byte, error) {
	sorted := append([]field(nil), fs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].start < sorted[j].start })
	out := make([]byte, 0, len(body)+len(body)/2)
	prev := 0
	for _, f := range sorted {
		if f.start < prev || f.start > f.end || f.end > len(body) {
			return nil, fmt.Errorf("%w: overlapping values at %s", ErrUnsupported, describe(f.doc, f.path))
		}
		s, ok, err := repl(f)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		out = append(append(out, body[prev:f.start]...), s...)
		prev = f.end
	}
	return append(out, body[prev:]...), nil
}

// sealFields seals every selected plaintext value of body.
func sealFields(w walker, body []byte, k *DataKey, sel Selector) ([]byte, error) {
	fs, err := w.fields(body)
	if err != nil {
		return nil, err
	}
	want := map[string]string{}
	out, err := splice(body, fs, func(f field) (string, bool, error) {
		if !f.selectable || IsToken(f.value) || (sel != nil && !sel(f.path)) {
			return "", false, nil
		}
		tok, err := sealValue(k, f.doc, f.path, body[f.start:f.end])
		if err != nil {
			return "", false, err
		}
		want[strconv.Itoa(f.doc)+"\x00"+f.path] = tok
		if f.quote {
			tok = `"` + tok + `"`
		}
		return tok, true, nil
	})
	if err != nil {
		return nil, err
	}
	return out, checkSealed(w, out, want)
}

// checkSealed re-reads a sealed body and checks that every sealed value
// reads back as its token at its key path, so a layout the walker got wrong
// fails here rather than producing a file that does not open.
func checkSealed(w walker, sealed []byte, want map[string]string) error {
	fs, err := w.fields(sealed)
	if err != nil {
		return fmt.Errorf("%w: the sealed file does not parse: %v", ErrUnsupported, err)
	}
	found := 0
	for _, f := range fs {
		if tok, ok := want[strconv.Itoa(f.doc)+"\x00"+f.path]; ok {
			if f.value != tok {
				return fmt.Errorf("%w: cannot seal the value at %s in place", ErrUnsupported, describe(f.doc, f.path))
			}
			found++
		}
	}
	if found != len(want) {
		return fmt.Errorf("%w: sealing changed the file's structure", ErrUnsupported)
	}
	return nil
}

// openFields replaces every sealed value of body by its source text.
func openFields(w walker, body []byte, k *DataKey) ([]byte, error) {
	fs, err := w.fields(body)
	if err != nil {
		return nil, err
	}
	// Open in source order, so the first bad value is the one reported.
	plain := make(map[int]string, len(fs))
	for _, f := range fs {
		if !IsToken(f.value) {
			continue
		}
		pt, err := openValue(k, f.doc, f.path, f.value)
		if err != nil {
			return nil, err
		}
		plain[f.start] = string(pt)
	}
	return splice(body, fs, func(f field) (string, bool, error) {
		pt, ok := plain[f.start]
		return pt, ok, nil
	})
}
