package logical

import (
	"regexp/syntax"
	"strings"
)

// Most paths are a literal prefix and one named group that takes the rest
// of the path, such as `data/(?P<path>(?s:.+))`. Running the regexp for
// those cost about 1 µs of every KV read; tailMatch matches them by
// comparison and slicing, with the regexp's exact result.

// tailMatch is a pattern of the form prefix(?P<name>(?s:.+)) or
// prefix(?P<name>(?s:.*)).
type tailMatch struct {
	prefix   string
	name     string
	nonEmpty bool // .+ rather than .*
}

// tailMatchOf recognises pattern as a tail match, or returns nil.
func tailMatchOf(pattern string) *tailMatch {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	last := subs[len(subs)-1]
	if last.Op != syntax.OpCapture || last.Name == "" || len(last.Sub) != 1 {
		return nil
	}
	rest := last.Sub[0]
	if (rest.Op != syntax.OpPlus && rest.Op != syntax.OpStar) || len(rest.Sub) != 1 || rest.Sub[0].Op != syntax.OpAnyChar {
		return nil
	}
	var prefix strings.Builder
	for _, s := range subs[:len(subs)-1] {
		if s.Op != syntax.OpLiteral || s.Flags&syntax.FoldCase != 0 {
			return nil
		}
		prefix.WriteString(string(s.Rune))
	}
	return &tailMatch{prefix: prefix.String(), name: last.Name, nonEmpty: rest.Op == syntax.OpPlus}
}

// match returns the capture and whether path matches.
func (t *tailMatch) match(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, t.prefix)
	if !ok || (t.nonEmpty && rest == "") {
		return "", false
	}
	return rest, true
}
