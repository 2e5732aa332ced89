package gitops

import (
	"strconv"
	"strings"
)

// keyPath is a key path under construction; segments are already escaped.
type keyPath []string

// key appends a mapping key.
func (p keyPath) key(k string) keyPath {
	return append(p[:len(p):len(p)], escapeKey(k))
}

// index appends a sequence index.
func (p keyPath) index(i int) keyPath {
	return append(p[:len(p):len(p)], "["+strconv.Itoa(i)+"]")
}

// String joins the segments: "a.b[0].c".
func (p keyPath) String() string {
	var b strings.Builder
	for i, s := range p {
		if i > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// escapeKey escapes the path syntax characters inside one mapping key.
func escapeKey(k string) string {
	if !strings.ContainsAny(k, `.[]\`) {
		return k
	}
	var b strings.Builder
	for _, r := range k {
		if strings.ContainsRune(`.[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
