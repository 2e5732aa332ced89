package cert

import "strings"

// globMatch reports whether subject matches pattern, where '*' matches any
// run of characters (including none) and every other character matches
// itself: the glob semantics of Vault's allowed_* settings. An empty
// pattern matches only the empty subject.
func globMatch(pattern, subject string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return subject == pattern
	}
	// The first part anchors at the start, the last at the end; the middle
	// parts are taken leftmost-first, which finds a match if any exists.
	if !strings.HasPrefix(subject, parts[0]) {
		return false
	}
	rest := subject[len(parts[0]):]
	last := len(parts) - 1
	for _, p := range parts[1:last] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return strings.HasSuffix(rest, parts[last])
}

// anyGlob reports whether any of the patterns matches any of the subjects.
// An empty pattern list allows everything, as Vault's allowed_* lists do.
func anyGlob(patterns, subjects []string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		for _, s := range subjects {
			if globMatch(p, s) {
				return true
			}
		}
	}
	return false
}
