package cli

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParsePolicyTestFile(t *testing.T) {
	tests := []struct {
		name, text, wantErr string
		cases               int
	}{
		{name: "valid", text: "policies: [a.hcl]\ncases:\n  - {capability: read, path: x, allow: true}\n  - {name: n, capability: sudo, path: y, allow: false, policies: [a]}\n", cases: 2},
		{name: "unknown key", text: "policies: [a.hcl]\ncases:\n  - {capability: read, path: x, alow: true}\n", wantErr: "field alow not found"},
		{name: "missing allow", text: "policies: [a.hcl]\ncases:\n  - {capability: read, path: x}\n", wantErr: "case 1: missing allow"},
		{name: "missing capability", text: "policies: [a.hcl]\ncases:\n  - {path: x, allow: true}\n", wantErr: "case 1: missing capability"},
		{name: "missing path", text: "policies: [a.hcl]\ncases:\n  - {capability: read, allow: true}\n", wantErr: "case 1: missing path"},
		{name: "no policies", text: "cases:\n  - {capability: read, path: x, allow: true}\n", wantErr: "lists no policies"},
		{name: "no cases", text: "policies: [a.hcl]\n", wantErr: "has no cases"},
		{name: "empty", text: "", wantErr: "test file is empty"},
		{name: "allow not a bool", text: "policies: [a.hcl]\ncases:\n  - {capability: read, path: x, allow: maybe}\n", wantErr: "parse test file"},
		{name: "not yaml", text: "policies: [", wantErr: "parse test file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parsePolicyTestFile([]byte(tt.text))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Cases) != tt.cases {
				t.Fatalf("%d cases, want %d", len(f.Cases), tt.cases)
			}
		})
	}
}

// writePolicyRepo writes files (name → text) into a temp dir and returns
// the path of tests.yaml in it.
func writePolicyRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "tests.yaml")
}

func TestPolicyTestCommand(t *testing.T) {
	policies := map[string]string{
		"hcl/reader.hcl": `path "secret/data/*" { capabilities = ["read", "list"] }`,
		"hcl/ops.hcl": `path "secret/data/*" { capabilities = ["update"] }
path "secret/data/locked" { capabilities = ["deny"] }
path "sys/mounts" { capabilities = ["read", "sudo"] }`,
	}
	with := func(tests string) map[string]string {
		m := map[string]string{"tests.yaml": tests}
		for k, v := range policies {
			m[k] = v
		}
		return m
	}
	head := "policies: [hcl/reader.hcl, hcl/ops.hcl]\ncases:\n"
	tests := []struct {
		name        string
		files       map[string]string
		code        int
		stdout      []string
		stderr      string
		notInStdout string
	}{
		{name: "all pass", files: with(head +
			"  - {capability: read, path: secret/data/app, allow: true}\n" +
			"  - {capability: update, path: secret/data/app, allow: false, policies: [reader]}\n" +
			"  - {capability: read, path: secret/data/locked, allow: false}\n" +
			"  - {capability: sudo, path: sys/mounts, allow: true}\n"),
			code: 0, stdout: []string{
				`PASS  case 1 (read secret/data/app): allow as expected (rule "secret/data/*" of reader)`,
				`PASS  case 2 (update secret/data/app): deny as expected (rule "secret/data/*" of reader)`,
				`PASS  case 3 (read secret/data/locked): deny as expected (rule "secret/data/locked" of ops)`,
				"4 passed, 0 failed",
			}},
		{name: "a failure names the case and what decided", files: with(head +
			"  - {capability: read, path: secret/data/app, allow: true}\n" +
			"  - {name: reader is read-only, capability: update, path: secret/data/app, allow: false}\n" +
			"  - {capability: read, path: kv/x, allow: true}\n"),
			code: 1, stdout: []string{
				`FAIL  case 2 (reader is read-only): want deny, got allow: rule "secret/data/*" of ops`,
				`FAIL  case 3 (read kv/x): want allow, got deny: no rule matched`,
				"1 passed, 2 failed",
			}, stderr: "Error: 2 of 3 policy cases failed: case 2 (reader is read-only), case 3 (read kv/x)"},
		{name: "unknown subset policy", files: with(head + "  - {capability: read, path: a, allow: true, policies: [nope]}\n"),
			code: 2, stderr: `case 1 (read a): policy "nope" is not listed under policies`},
		{name: "unknown capability", files: with(head + "  - {capability: reed, path: a, allow: true}\n"),
			code: 2, stderr: "unknown capability"},
		{name: "bad policy file", files: map[string]string{"tests.yaml": "policies: [bad.hcl]\ncases:\n  - {capability: read, path: a, allow: true}\n", "bad.hcl": `path "a" { capabilities = ["read"`},
			code: 2, stderr: "policy file bad.hcl: "},
		{name: "missing policy file", files: map[string]string{"tests.yaml": "policies: [gone.hcl]\ncases:\n  - {capability: read, path: a, allow: true}\n"},
			code: 2, stderr: "gone.hcl"},
		{name: "duplicate policy name", files: with("policies: [hcl/reader.hcl, hcl/reader.hcl]\ncases:\n  - {capability: read, path: a, allow: true}\n"),
			code: 2, stderr: `a policy named "reader" is already listed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writePolicyRepo(t, tt.files)
			res := runCLI(t, "http://127.0.0.1:1", nil, "", "policy", "test", file)
			if res.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", res.code, tt.code, res.stdout, res.stderr)
			}
			for _, line := range tt.stdout {
				if !strings.Contains(res.stdout, line+"\n") {
					t.Errorf("stdout lacks %q:\n%s", line, res.stdout)
				}
			}
			if !strings.Contains(res.stderr, tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", res.stderr, tt.stderr)
			}
		})
	}
}

// FuzzParsePolicyTestFile checks that the parser never panics and that
// what it accepts is valid and survives a YAML round trip unchanged.
func FuzzParsePolicyTestFile(f *testing.F) {
	for _, s := range []string{
		"policies: [a.hcl]\ncases:\n  - {capability: read, path: x, allow: true}\n",
		"policies:\n  - a.hcl\n  - b/c.json\ncases:\n  - name: n\n    capability: sudo\n    path: sys/mounts\n    allow: false\n    policies: [a]\n",
		"policies: [a.hcl]\ncases: [{capability: read, path: x, allow: yes}]\n",
		"policies: &a [x]\ncases: *a\n",
		"---\n...\n", "policies: [", "{}", "cases: []",
		"policies: [x]\ncases:\n  - {capability: r, path: p, allow: false, policies: []}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parsePolicyTestFile(data)
		if err != nil {
			return
		}
		if len(got.Policies) == 0 || len(got.Cases) == 0 {
			t.Fatalf("accepted a file without policies or cases: %+v", got)
		}
		for i, c := range got.Cases {
			if c.Allow == nil || strings.TrimSpace(c.Capability) == "" || strings.TrimSpace(c.Path) == "" {
				t.Fatalf("accepted incomplete case %d: %+v", i, c)
			}
		}
		out, err := yaml.Marshal(got)
		if err != nil {
			t.Fatalf("marshal accepted file: %v", err)
		}
		again, err := parsePolicyTestFile(out)
		if err != nil {
			t.Fatalf("round trip refused: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("round trip changed the file:\n%+v\n%+v", got, again)
		}
	})
}
