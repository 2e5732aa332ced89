package httpapi

import (
	"encoding/json"
	"unicode/utf8"
)

// Request bodies are small JSON objects: {"plaintext":"..."} for transit,
// {"data":{...}} for a KV write, a role's settings. encoding/json's Decoder
// reads such a body twice (once to find its end, once to decode it) and
// allocates a decoder and a buffer each time. decodePlainObject decodes the
// common shape in one pass: objects, arrays, strings without escapes,
// numbers, true, false and null, nested at most maxPlainDepth deep. Anything
// else (an escape, a control character or invalid UTF-8 in a string, deeper
// nesting, and every malformed body) it leaves to encoding/json, so both
// the values and the error messages are encoding/json's. FuzzDecodeJSONObject
// checks that the two agree on every body this path accepts.

// maxPlainDepth is how deeply decodePlainObject nests objects and arrays
// before it leaves a body to encoding/json.
const maxPlainDepth = 32

// decodePlainObject decodes body, a JSON object with optional surrounding
// whitespace, as encoding/json would into an any with UseNumber. ok is
// false when the body is not in the shape it decodes; the caller then uses
// encoding/json.
func decodePlainObject(body []byte) (m map[string]any, ok bool) {
	p := plainParser{b: body}
	p.space()
	if !p.next('{') {
		return nil, false
	}
	m, ok = p.object(1)
	if !ok {
		return nil, false
	}
	p.space()
	return m, p.i == len(p.b)
}

// plainParser is decodePlainObject's cursor over the body.
type plainParser struct {
	b []byte
	i int
}

// space skips JSON whitespace.
func (p *plainParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// next consumes c if it is the next byte.
func (p *plainParser) next(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// object decodes the members of an object whose '{' was consumed.
func (p *plainParser) object(depth int) (map[string]any, bool) {
	m := make(map[string]any)
	p.space()
	if p.next('}') {
		return m, true
	}
	for {
		p.space()
		if !p.next('"') {
			return nil, false
		}
		k, ok := p.str()
		if !ok {
			return nil, false
		}
		p.space()
		if !p.next(':') {
			return nil, false
		}
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		m[k] = v
		p.space()
		if p.next('}') {
			return m, true
		}
		if !p.next(',') {
			return nil, false
		}
	}
}

// array decodes the elements of an array whose '[' was consumed.
func (p *plainParser) array(depth int) ([]any, bool) {
	a := []any{}
	p.space()
	if p.next(']') {
		return a, true
	}
	for {
		v, ok := p.value(depth)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		p.space()
		if p.next(']') {
			return a, true
		}
		if !p.next(',') {
			return nil, false
		}
	}
}

// value decodes one value inside a container at depth.
func (p *plainParser) value(depth int) (any, bool) {
	p.space()
	if p.i == len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		p.i++
		return p.str()
	case c == '{' || c == '[':
		if depth >= maxPlainDepth {
			return nil, false
		}
		p.i++
		if c == '{' {
			return p.object(depth + 1)
		}
		return p.array(depth + 1)
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		for _, lit := range [...]struct {
			s string
			v any
		}{{"true", true}, {"false", false}, {"null", nil}} {
			if len(p.b)-p.i >= len(lit.s) && string(p.b[p.i:p.i+len(lit.s)]) == lit.s {
				p.i += len(lit.s)
				return lit.v, true
			}
		}
		return nil, false
	}
}

// str decodes a string whose opening quote was consumed: only one that
// encoding/json would return byte for byte (no escape, no control
// character, valid UTF-8).
func (p *plainParser) str() (string, bool) {
	start := p.i
	ascii := true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		p.i++
	}
	return "", false
}

// number decodes a number as json.Number, checking JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *plainParser) number() (json.Number, bool) {
	start := p.i
	p.next('-')
	if !p.next('0') && !p.digits() { // a leading zero takes no more digits
		return "", false
	}
	if p.next('.') && !p.digits() {
		return "", false
	}
	if p.next('e') || p.next('E') {
		if !p.next('+') {
			p.next('-')
		}
		if !p.digits() {
			return "", false
		}
	}
	return json.Number(p.b[start:p.i]), true
}

// digits consumes one or more decimal digits.
func (p *plainParser) digits() bool {
	start := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}
