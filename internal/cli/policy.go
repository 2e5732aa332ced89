package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/cofferdev/coffer/internal/policy"
)

func (a *app) policyCommand() *cobra.Command {
	return a.addAPIFlags(a.groupCommand("policy", "Write, read, list, delete and format ACL policies",
		`Commands for ACL policies, written in Vault's HCL policy syntax:

  path "secret/data/app/*" {
    capabilities = ["read", "list"]
  }`,
		a.policyWriteCommand(),
		a.policyReadCommand(),
		a.policyListCommand(),
		a.policyDeleteCommand(),
		a.policyFmtCommand(),
		a.policyTestCommand(),
	))
}

func policyPath(name string) string { return "sys/policies/acl/" + strings.Trim(name, "/") }

func (a *app) policyWriteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "write NAME FILE|-",
		Short: "Upload a policy from a file or stdin",
		Long:  `Create or replace the policy NAME with the HCL (or JSON) in FILE; "-" reads stdin.`,
		Example: `  coffer policy write app-reader app-reader.hcl
  cat app.hcl | coffer policy write app -`,
		Args: argsBetween(2, 2),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			text, err := a.readFileOrStdin(args[1])
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			name := strings.ToLower(strings.TrimSpace(args[0]))
			if _, err := c.Write(cmd.Context(), policyPath(name), map[string]any{"policy": text}); err != nil {
				return fmt.Errorf("uploading policy: %w", err)
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Uploaded policy: %s\n", name)
			return err
		}),
	}
}

// readFileOrStdin reads a whole file, or stdin for "-".
func (a *app) readFileOrStdin(name string) (string, error) {
	if name == "-" {
		if a.stdin == nil {
			return "", fmt.Errorf("stdin is not available")
		}
		b, err := io.ReadAll(io.LimitReader(a.stdin, maxInputBytes))
		if err != nil {
			return "", fmt.Errorf("read stdin: %w", err)
		}
		return string(b), nil
	}
	b, err := readLimited(name)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (a *app) policyReadCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "read NAME",
		Short: "Print a policy",
		Long:  "Print the text of the policy NAME; with -format=json or yaml, its name and text.",
		Example: `  coffer policy read default
  coffer policy read -format=json app-reader`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			name := strings.ToLower(strings.TrimSpace(args[0]))
			s, err := c.Read(cmd.Context(), policyPath(name), nil)
			if err != nil {
				return fmt.Errorf("reading policy: %w", err)
			}
			if s == nil || s.Data["policy"] == nil {
				return &exitErr{code: exitUsage, err: fmt.Errorf("no policy named: %s", name)}
			}
			if p.format != "table" || p.field != "" {
				return p.data(s.Data)
			}
			_, err = fmt.Fprintln(a.stdout, strings.TrimSpace(str(s.Data["policy"])))
			return err
		}),
	}
}

func (a *app) policyListCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the policy names",
		Long:    "List the names of all ACL policies, one per line.",
		Example: "  coffer policy list",
		Args:    argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			s, err := c.List(cmd.Context(), "sys/policies/acl")
			if err != nil {
				return fmt.Errorf("listing policies: %w", err)
			}
			var names []string
			if s != nil {
				names = anyStrings(s.Data["keys"])
			}
			sort.Strings(names)
			if p.format != "table" {
				return p.structured(names)
			}
			for _, n := range names {
				fmt.Fprintln(a.stdout, n)
			}
			return nil
		}),
	}
}

func (a *app) policyDeleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a policy",
		Long:    "Delete the policy NAME. Tokens that name it keep the name but lose its rules.",
		Example: "  coffer policy delete app-reader",
		Args:    argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			name := strings.ToLower(strings.TrimSpace(args[0]))
			if _, err := c.Delete(cmd.Context(), policyPath(name), nil); err != nil {
				return fmt.Errorf("deleting policy: %w", err)
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Deleted policy: %s\n", name)
			return err
		}),
	}
}

func (a *app) policyFmtCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "fmt FILE",
		Short: "Format a policy file in place",
		Long: `Rewrite a policy file in the canonical HCL layout, in place. The file must be
a valid policy; it is left unchanged otherwise. No server is needed.`,
		Example: "  coffer policy fmt app-reader.hcl",
		Args:    argsBetween(1, 1),
		RunE: a.runE(func(_ *cobra.Command, args []string) error {
			name := args[0]
			text, err := readLimited(name)
			if err != nil {
				return err
			}
			out, err := policy.Format(string(text))
			if err != nil {
				return fmt.Errorf("formatting %s: %w", name, err)
			}
			if err := writeFileInPlace(name, []byte(out)); err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Formatted policy: %s\n", name)
			return err
		}),
	}
}

// writeFileInPlace replaces a file's contents atomically, keeping its mode.
func writeFileInPlace(name string, data []byte) error {
	fi, err := os.Stat(name)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".coffer-fmt-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func (a *app) policyTestCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "test FILE",
		Short: "Check policy files against a table of expected decisions, offline",
		Long: `Evaluate policy files against expected decisions without a server, for CI in
policy repositories. FILE is YAML:

  policies:              # HCL or JSON policy files, relative to FILE;
    - app-reader.hcl     # each is named after its file: app-reader
    - ci.hcl
  cases:
    - capability: read   # a capability or an operation
      path: secret/data/app/config
      allow: true
    - name: ci cannot touch sys   # optional; shown in the report
      capability: sudo
      path: sys/mounts
      allow: false
      policies: [ci]     # optional subset; all policies by default

Decisions follow Vault's rule precedence. Prints one line per case and a
summary. Exit code 0 when every case passes, 1 when any fails, 2 when FILE
or a policy cannot be read or parsed.`,
		Example: "  coffer policy test policies/tests.yaml",
		Args:    argsBetween(1, 1),
		RunE: a.runE(func(_ *cobra.Command, args []string) error {
			return a.runPolicyTest(args[0])
		}),
	}
}

// policyTestFile is the YAML input of `policy test`.
type policyTestFile struct {
	Policies []string         `yaml:"policies"`
	Cases    []policyTestCase `yaml:"cases"`
}

// policyTestCase is one expected decision.
type policyTestCase struct {
	Name       string   `yaml:"name,omitempty"`
	Capability string   `yaml:"capability"`
	Path       string   `yaml:"path"`
	Allow      *bool    `yaml:"allow"`
	Policies   []string `yaml:"policies,omitempty"`
}

// maxPolicyTestFile bounds the YAML accepted by parsePolicyTestFile.
const maxPolicyTestFile = 4 << 20

// parsePolicyTestFile decodes and validates a `policy test` file. Unknown
// keys are errors, so a typo never turns a case into a silent pass.
func parsePolicyTestFile(data []byte) (*policyTestFile, error) {
	if len(data) > maxPolicyTestFile {
		return nil, fmt.Errorf("test file is larger than %d bytes", maxPolicyTestFile)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f policyTestFile
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("test file is empty")
		}
		return nil, fmt.Errorf("parse test file: %w", err)
	}
	if len(f.Policies) == 0 {
		return nil, fmt.Errorf("test file lists no policies")
	}
	if len(f.Cases) == 0 {
		return nil, fmt.Errorf("test file has no cases")
	}
	for i, c := range f.Cases {
		switch {
		case strings.TrimSpace(c.Capability) == "":
			return nil, fmt.Errorf("case %d: missing capability", i+1)
		case strings.TrimSpace(c.Path) == "":
			return nil, fmt.Errorf("case %d: missing path", i+1)
		case c.Allow == nil:
			return nil, fmt.Errorf("case %d: missing allow (true or false)", i+1)
		}
		if len(c.Policies) == 0 {
			f.Cases[i].Policies = nil // "policies: []" means all, like no key
		}
	}
	return &f, nil
}

// label names a case in the report: its name, else capability and path.
func (c *policyTestCase) label(i int) string {
	if c.Name != "" {
		return fmt.Sprintf("case %d (%s)", i+1, c.Name)
	}
	return fmt.Sprintf("case %d (%s %s)", i+1, c.Capability, c.Path)
}

// loadTestPolicies parses each policy file, named after its base name
// without extension, relative to dir.
func loadTestPolicies(dir string, files []string) (map[string]*policy.Policy, []string, error) {
	byName := map[string]*policy.Policy{}
	var names []string
	for _, file := range files {
		path := file
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, file)
		}
		name := strings.ToLower(strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)))
		if err := policy.ValidateName(name); err != nil {
			return nil, nil, fmt.Errorf("policy file %s: %w", file, err)
		}
		if byName[name] != nil {
			return nil, nil, fmt.Errorf("policy file %s: a policy named %q is already listed", file, name)
		}
		text, err := readLimited(path)
		if err != nil {
			return nil, nil, err
		}
		p, err := policy.Parse(name, string(text))
		if err != nil {
			return nil, nil, fmt.Errorf("policy file %s: %w", file, err)
		}
		byName[name] = p
		names = append(names, name)
	}
	return byName, names, nil
}

// runPolicyTest evaluates every case and reports; failures exit 1, bad
// input exits 2.
func (a *app) runPolicyTest(file string) error {
	data, err := readLimited(file)
	if err != nil {
		return &exitErr{code: exitUsage, err: err}
	}
	f, err := parsePolicyTestFile(data)
	if err != nil {
		return &exitErr{code: exitUsage, err: fmt.Errorf("%s: %w", file, err)}
	}
	byName, all, err := loadTestPolicies(filepath.Dir(file), f.Policies)
	if err != nil {
		return &exitErr{code: exitUsage, err: err}
	}
	var failed []string
	for i := range f.Cases {
		c := &f.Cases[i]
		line, ok, err := evalPolicyCase(c, byName, all)
		if err != nil {
			return &exitErr{code: exitUsage, err: fmt.Errorf("%s: %w", c.label(i), err)}
		}
		status := "PASS"
		if !ok {
			status = "FAIL"
			failed = append(failed, c.label(i))
		}
		fmt.Fprintf(a.stdout, "%s  %s: %s\n", status, c.label(i), line)
	}
	fmt.Fprintf(a.stdout, "%d passed, %d failed\n", len(f.Cases)-len(failed), len(failed))
	if len(failed) > 0 {
		return &exitErr{code: exitError, err: fmt.Errorf("%d of %d policy cases failed: %s",
			len(failed), len(f.Cases), strings.Join(failed, ", "))}
	}
	return nil
}

// evalPolicyCase explains one case and describes the outcome.
func evalPolicyCase(c *policyTestCase, byName map[string]*policy.Policy, all []string) (string, bool, error) {
	names := all
	if len(c.Policies) > 0 {
		names = c.Policies
	}
	var set []*policy.Policy
	for _, n := range names {
		p := byName[strings.ToLower(strings.TrimSpace(n))]
		if p == nil {
			return "", false, fmt.Errorf("policy %q is not listed under policies", n)
		}
		set = append(set, p)
	}
	ex, err := policy.Explain(set, c.Capability, c.Path)
	if err != nil {
		return "", false, err
	}
	verdict := map[bool]string{true: "allow", false: "deny"}
	decided := "no rule matched"
	if ex.Rule != "" {
		decided = fmt.Sprintf("rule %q of %s", ex.Rule, strings.Join(ex.Policies, ", "))
	}
	ok := ex.Allowed == *c.Allow
	if ok {
		return fmt.Sprintf("%s as expected (%s)", verdict[ex.Allowed], decided), true, nil
	}
	return fmt.Sprintf("want %s, got %s: %s", verdict[*c.Allow], verdict[ex.Allowed], decided), false, nil
}
