package logical

import (
	"regexp"
	"testing"
)

// tailPatterns are patterns of the shapes engines use, each with whether it
// has a fast form.
var tailPatterns = map[string]bool{
	`data/(?P<path>(?s:.+))`:          true,
	`subkeys/(?P<path>(?s:.+))`:       true,
	`(?P<path>(?s:.*))`:               true,
	`destroy/(?P<path>(?s:.+))`:       true,
	`data/(?P<path>.+)`:               false, // . without s stops at a newline
	`metadata(?:/(?P<path>(?s:.*)))?`: false,
	`(?i)data/(?P<path>(?s:.+))`:      false,
	`data/(?s:.+)`:                    false, // no named group
	`(?s:.*)`:                         false,
	`keys/(?P<name>\w+)`:              false,
	`config`:                          false,
	`a|b/(?P<path>(?s:.+))`:           false,
	`roles/(?P<name>(?s:.+))/x`:       false,
}

func TestTailMatchOf(t *testing.T) {
	for pattern, want := range tailPatterns {
		if got := tailMatchOf(pattern) != nil; got != want {
			t.Errorf("tailMatchOf(%q) recognised = %v, want %v", pattern, got, want)
		}
	}
	tm := tailMatchOf(`data/(?P<path>(?s:.+))`)
	if tm.prefix != "data/" || tm.name != "path" || !tm.nonEmpty {
		t.Fatalf("tailMatchOf = %+v", tm)
	}
}

// FuzzTailMatch: on every path, the fast form answers exactly as the
// anchored regexp does, capture included.
func FuzzTailMatch(f *testing.F) {
	for _, s := range []string{"data/a", "data/", "data", "subkeys/a/b", "", "destroy/\n", "data/\xff", "xdata/a", "data/a\x00b"} {
		f.Add(s)
	}
	type compiled struct {
		re   *regexp.Regexp
		tail *tailMatch
	}
	var all []compiled
	for pattern, fast := range tailPatterns {
		if fast {
			all = append(all, compiled{regexp.MustCompile("^" + pattern + "$"), tailMatchOf(pattern)})
		}
	}
	f.Fuzz(func(t *testing.T, path string) {
		for _, c := range all {
			m := c.re.FindStringSubmatch(path)
			got, ok := c.tail.match(path)
			if ok != (m != nil) {
				t.Fatalf("%s on %q: fast match %v, regexp %v", c.re, path, ok, m != nil)
			}
			if ok && got != m[c.re.SubexpIndex(c.tail.name)] {
				t.Fatalf("%s on %q: fast capture %q, regexp %q", c.re, path, got, m[c.re.SubexpIndex(c.tail.name)])
			}
		}
	})
}
