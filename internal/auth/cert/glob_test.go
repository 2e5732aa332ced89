package cert

import (
	"regexp"
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, subject string
		want             bool
	}{
		{"", "", true}, {"", "a", false}, {"*", "", true}, {"*", "anything", true},
		{"abc", "abc", true}, {"abc", "abcd", false}, {"a*", "abc", true}, {"a*", "ba", false},
		{"*.example.com", "app.example.com", true}, {"*.example.com", "example.com", false},
		{"*.example.com", "a.b.example.com", true}, {"a*c", "ac", true}, {"a*c", "abcbc", true},
		{"a*c", "abcb", false}, {"a*a", "a", false}, {"a*b*c", "aXbYc", true}, {"a*b*c", "acb", false},
		{"**", "x", true}, {"?", "a", false}, {"a.c", "abc", false}, {"[a]", "a", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"~"+tt.subject, func(t *testing.T) {
			if got := globMatch(tt.pattern, tt.subject); got != tt.want {
				t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.subject, got, tt.want)
			}
		})
	}
}

func TestAnyGlob(t *testing.T) {
	tests := []struct {
		name               string
		patterns, subjects []string
		want               bool
	}{
		{"no patterns allow all", nil, nil, true},
		{"patterns but no subjects", []string{"*"}, nil, false},
		{"one of several", []string{"x", "b*"}, []string{"a", "bc"}, true},
		{"none", []string{"x"}, []string{"a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := anyGlob(tt.patterns, tt.subjects); got != tt.want {
				t.Errorf("anyGlob = %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzGlobMatch: globMatch agrees with the equivalent anchored regular
// expression ('*' as ".*", everything else literal).
func FuzzGlobMatch(f *testing.F) {
	for _, s := range [][2]string{{"*.example.com", "a.example.com"}, {"a*b*c", "abc"}, {"", ""}, {"**a", "ba"}, {"a*a", "a"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, subject string) {
		parts := strings.Split(pattern, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re, err := regexp.Compile("^(?s:" + strings.Join(parts, ".*") + ")$")
		if err != nil {
			t.Skip()
		}
		if got, want := globMatch(pattern, subject), re.MatchString(subject); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, regexp says %v", pattern, subject, got, want)
		}
	})
}
