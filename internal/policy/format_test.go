package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/policy"
)

// corpus returns the policy files under testdata.
func corpus(t testing.TB) map[string]string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(b)
	}
	return out
}

// checkFormat asserts Format's contract on text: stable, and parsing to the
// same rules as text.
func checkFormat(t *testing.T, text string) string {
	t.Helper()
	p := mustParse(t, "in", text)
	out, err := policy.Format(text)
	if err != nil {
		t.Fatalf("Format: %v", err)
	}
	again, err := policy.Format(out)
	if err != nil {
		t.Fatalf("Format(Format(x)): %v", err)
	}
	if again != out {
		t.Errorf("Format is not idempotent:\n%s\n---\n%s", out, again)
	}
	q := mustParse(t, "out", out)
	if !policy.SameRules(p, q) {
		t.Errorf("formatted policy has different rules:\n%s", out)
	}
	return out
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // substrings of the output
		not      []string // substrings that must be gone
	}{
		{"reindents and aligns", "path \"a\" {\ncapabilities=[\"read\"]\n    policy = \"write\"\n}\n",
			[]string{"  capabilities = [\"read\"]\n  policy       = \"write\""}, nil},
		{"keeps comments", "# top\npath \"a\" { # block\n  capabilities = [\"read\"] # caps\n}\n",
			[]string{"# top", "# caps"}, nil},
		{"json becomes hcl", `{"path": {"a/*": {"capabilities": ["read"], "allowed_parameters": {"k": ["v", 1]}}}}`,
			[]string{`path "a/*" {`, `"k" = ["v", 1]`}, []string{`"path":`}},
		{"json with interpolation-like text", `{"path": {"a": {"capabilities": ["read"], "allowed_parameters": {"k": ["${x}", "\"q\""]}}}}`,
			[]string{`"k" = ["\u0024{x}", "\"q\""]`}, nil},
		{"empty", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := checkFormat(t, tt.in)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("output still has %q:\n%s", n, out)
				}
			}
		})
	}
}

func TestFormatCorpus(t *testing.T) {
	for name, text := range corpus(t) {
		t.Run(name, func(t *testing.T) { checkFormat(t, text) })
	}
	t.Run("default policy", func(t *testing.T) {
		if out := checkFormat(t, policy.DefaultPolicy()); out != policy.DefaultPolicy() {
			t.Errorf("the built-in default policy is not in canonical form:\n%s", out)
		}
	})
}

func TestFormatRejectsInvalid(t *testing.T) {
	_, err := policy.Format("path \"a\" {\n  capabilities = [\"reed\"]\n}")
	if !errors.Is(err, policy.ErrInvalidPolicy) || !strings.Contains(err.Error(), `line 2: unknown capability "reed"`) {
		t.Errorf("err = %v", err)
	}
}

func TestGenerate(t *testing.T) {
	for name, text := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			p := mustParse(t, name, text)
			q := mustParse(t, "generated", policy.Generate(p))
			if !policy.SameRules(p, q) {
				t.Errorf("generated text has different rules:\n%s", policy.Generate(p))
			}
		})
	}
}

func TestCorpusParses(t *testing.T) {
	for name, text := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			p := mustParse(t, name, text)
			if len(p.Paths) == 0 {
				t.Fatal("no rules")
			}
			if _, err := policy.NewACL(p); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCorpusDecisions(t *testing.T) {
	tests := []struct {
		file, op, path string
		data           map[string]any
		want           bool
	}{
		{"admin.hcl", "read", "sys/health", nil, true},
		{"admin.hcl", "update", "sys/mounts/kv", nil, true},
		{"admin.hcl", "read", "sys/seal", nil, false},
		{"kv-readonly.hcl", "read", "secret/data/webapp/config", nil, true},
		{"kv-readonly.hcl", "update", "secret/data/webapp/config", nil, false},
		{"kv-readonly.hcl", "read", "secret/data/webapp/prod/db", nil, false},
		{"kv-readonly.hcl", "list", "secret/metadata/", nil, true},
		{"kv-readonly.hcl", "list", "secret/metadata/webapp/a/", nil, true},
		{"approle.hcl", "read", "auth/approle/role/web/role-id", nil, true},
		{"approle.hcl", "update", "auth/approle/role/jenkins", map[string]any{"token_policies": "jenkins,default"}, true},
		{"approle.hcl", "update", "auth/approle/role/jenkins", map[string]any{"token_policies": "root"}, false},
		{"approle.hcl", "update", "auth/approle/role/jenkins", map[string]any{"bind_secret_id": false}, false},
		{"approle.hcl", "read", "secret/legacy/jenkins", nil, true},
		{"pki.hcl", "update", "pki_int/issue/example-dot-com", map[string]any{"common_name": "www.example.com", "format": "pem"}, true},
		{"pki.hcl", "update", "pki_int/issue/example-dot-com", map[string]any{"common_name": "evil.com"}, false},
		{"pki.hcl", "update", "pki_int/issue/example-dot-com", map[string]any{"ttl": "24h"}, false},
		{"pki.hcl", "update", "pki/root/sign-intermediate", nil, false},
		{"pki.hcl", "read", "pki_int/cert/ca", nil, true},
		{"json-policy.json", "update", "transit/encrypt/app", map[string]any{"plaintext": "aGk="}, true},
		{"json-policy.json", "update", "transit/encrypt/app", map[string]any{"batch_input": []any{}}, false},
	}
	files := corpus(t)
	for _, tt := range tests {
		t.Run(tt.file+" "+tt.op+" "+tt.path, func(t *testing.T) {
			a := mustACL(t, tt.file, files[tt.file])
			if res := a.Check(tt.op, tt.path, tt.data, 0); res.Allowed != tt.want {
				t.Errorf("got %+v, want allowed=%v", res, tt.want)
			}
		})
	}
}
