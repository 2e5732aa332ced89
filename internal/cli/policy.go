package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

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
