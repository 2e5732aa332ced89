package gitops

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// jsonMarker starts the recipient block of a JSON file: a last member of
// the top-level object holding the block's lines as an array of strings.
const jsonMarker = ",\n  \"coffer\": ["

// jsonBlock stores the recipient block inside a JSON object.
type jsonBlock struct{}

func (jsonBlock) attach(body []byte, m *meta) ([]byte, error) {
	t := bytes.TrimRight(body, " \t\r\n")
	if len(t) == 0 || t[len(t)-1] != '}' {
		return nil, fmt.Errorf("%w: a sealed JSON file must be an object", ErrUnsupported)
	}
	at := len(bytes.TrimRight(t[:len(t)-1], " \t\r\n"))
	if at == 0 || t[at-1] == '{' {
		return nil, fmt.Errorf("%w: an empty JSON object has nothing to seal", ErrUnsupported)
	}
	m.noEOL = false
	var b bytes.Buffer
	b.Write(body[:at])
	b.WriteString(jsonMarker)
	for i, l := range m.lines() {
		q, _ := json.Marshal(l) // a string always marshals
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		b.Write(q)
	}
	b.WriteString("\n  ]")
	b.Write(body[at:])
	return b.Bytes(), nil
}

func (jsonBlock) detach(src []byte) ([]byte, *meta, error) {
	i := bytes.LastIndex(src, []byte(jsonMarker))
	if i < 0 {
		return src, nil, nil
	}
	arrStart := i + len(jsonMarker) - 1
	dec := json.NewDecoder(bytes.NewReader(src[arrStart:]))
	var lines []string
	if err := dec.Decode(&lines); err != nil {
		return nil, nil, fmt.Errorf("%w: recipient block: %v", ErrMalformed, err)
	}
	end := arrStart + int(dec.InputOffset())
	if !strings.HasPrefix(strings.TrimLeft(string(src[end:]), " \t\r\n"), "}") {
		return nil, nil, fmt.Errorf("%w: the coffer member must be the last one", ErrMalformed)
	}
	m, err := parseMetaLines(lines)
	if err != nil {
		return nil, nil, err
	}
	body := append(append([]byte(nil), src[:i]...), src[end:]...)
	return body, m, nil
}
