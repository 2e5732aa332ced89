package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cofferdev/coffer/internal/policy"
)

// FuzzParse checks that any input either is rejected with ErrInvalidPolicy
// or parses to a policy that compiles, answers checks, and whose Format
// output is stable and parses to the same rules.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{
		policy.DefaultPolicy(),
		`path "a/+/b*" { capabilities = ["read"] allowed_parameters = { "k" = [1, 2.5, true, "x*"] } }`,
		`path "a" { policy = "sudo" min_wrapping_ttl = 1 max_wrapping_ttl = "1d" }`,
		`{"path": {"a": {"capabilities": ["list"], "denied_parameters": {"*": []}}}}`,
		`path "a" { capabilities = ["read"] } # comment`,
		"path \"a\" {\n capabilities = [<<EOT\nread\nEOT\n]\n}",
		`name = "x"`,
		`path "${x}" { capabilities = [] }`,
		``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := policy.Parse("fuzz", text)
		if err != nil {
			if !errors.Is(err, policy.ErrInvalidPolicy) {
				t.Fatalf("error %v does not wrap ErrInvalidPolicy", err)
			}
			return
		}
		a, err := policy.NewACL(p)
		if err != nil {
			t.Fatalf("NewACL: %v", err)
		}
		for _, r := range p.Paths {
			a.Check("update", r.Path, map[string]any{"k": "v", "n": []any{1.0}}, 0)
			a.Capabilities(r.Path)
		}
		out, err := policy.Format(text)
		if err != nil {
			t.Fatalf("Format of a valid policy failed: %v", err)
		}
		q, err := policy.Parse("formatted", out)
		if err != nil {
			t.Fatalf("Format output does not parse: %v\n%s", err, out)
		}
		if !policy.SameRules(p, q) {
			t.Fatalf("Format changed the rules:\n%q\n->\n%q", text, out)
		}
		again, err := policy.Format(out)
		if err != nil || again != out {
			t.Fatalf("Format not idempotent (%v):\n%q\n->\n%q", err, out, again)
		}
	})
}
