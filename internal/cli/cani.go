package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// canIFlags name the principal `can-i` asks about; at most one is set.
type canIFlags struct {
	token, entity, role string
}

func (a *app) canICommand() *cobra.Command {
	var fl canIFlags
	cmd := &cobra.Command{
		Use:   "can-i CAPABILITY PATH",
		Short: "Check whether a token, entity or role holds a capability on a path",
		Long: `Ask the server whether a principal holds CAPABILITY (read, create, update,
patch, delete, list, sudo, ...) on PATH, and which policy and rule decided.
Without a flag the principal is the calling token. -token checks another
token (with its entity's identity policies), -entity an identity entity, and
-role an auth method role such as auth/approle/role/web: its token_policies,
plus "default" unless the role sets token_no_default_policy.

Prints "yes" or "no" first, then the deciding policy and rule. Exit code 0
means yes, 1 means no, 2 a usage or server error. The server answers through
sys/policy-check, which needs the "update" capability on that path.`,
		Example: `  coffer can-i read secret/data/app
  coffer can-i -role=auth/approle/role/web update secret/data/web/config
  coffer can-i -entity=7d2e3a4c-... sudo sys/mounts`,
		Args: argsBetween(2, 2),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			return a.runCanI(cmd, fl, args[0], args[1])
		}),
	}
	f := cmd.Flags()
	f.StringVar(&fl.token, "token", "", "check this token instead of the caller's")
	f.StringVar(&fl.entity, "entity", "", "check this identity entity id")
	f.StringVar(&fl.role, "role", "", "check the token policies of this auth role path, e.g. auth/approle/role/web")
	return a.addAPIFlags(cmd)
}

func (a *app) runCanI(cmd *cobra.Command, fl canIFlags, capability, path string) error {
	set := 0
	for _, v := range []string{fl.token, fl.entity, fl.role} {
		if v != "" {
			set++
		}
	}
	if set > 1 {
		return usageError(cmd, "give at most one of -token, -entity and -role")
	}
	p, c, err := a.session(cmd)
	if err != nil {
		return &exitErr{code: exitUsage, err: err}
	}
	body := map[string]any{"capability": capability, "path": strings.TrimPrefix(path, "/")}
	switch {
	case fl.token != "":
		body["token"] = fl.token
	case fl.entity != "":
		body["entity_id"] = fl.entity
	case fl.role != "":
		policies, err := rolePolicies(cmd.Context(), c, fl.role)
		if err != nil {
			return &exitErr{code: exitUsage, err: err}
		}
		body["policies"] = policies
	}
	s, err := c.Write(cmd.Context(), "sys/policy-check", body)
	if err != nil {
		return &exitErr{code: exitUsage, err: fmt.Errorf("checking policy: %w", err)}
	}
	if s == nil || s.Data == nil {
		return &exitErr{code: exitUsage, err: fmt.Errorf("checking policy: empty answer from the server")}
	}
	if err := a.printCanI(p, s.Data); err != nil {
		return &exitErr{code: exitUsage, err: err}
	}
	if s.Data["allowed"] != true {
		return quietExit(exitError)
	}
	return nil
}

// rolePolicies reads an auth role and returns the policies its tokens get.
func rolePolicies(ctx context.Context, c *apiclient.Client, role string) ([]string, error) {
	role = strings.Trim(role, "/")
	s, err := c.Read(ctx, role, nil)
	if err != nil {
		return nil, fmt.Errorf("reading role %s: %w", role, err)
	}
	if s == nil || s.Data == nil {
		return nil, fmt.Errorf("no role found at %s", role)
	}
	policies := anyStrings(s.Data["token_policies"])
	if len(policies) == 0 {
		policies = anyStrings(s.Data["policies"])
	}
	if s.Data["token_no_default_policy"] != true && !slices.Contains(policies, "default") {
		policies = append(policies, "default")
	}
	return policies, nil
}

// printCanI prints yes/no and what decided, or the whole answer in the
// JSON and YAML formats.
func (a *app) printCanI(p *printer, data map[string]any) error {
	if p.format != "table" || p.field != "" {
		return p.data(data)
	}
	answer := "no"
	if data["allowed"] == true {
		answer = "yes"
	}
	decided, _ := data["decided_by"].(map[string]any)
	policy, rule := str(decided["policy"]), str(decided["rule"])
	if policy == "" {
		policy = "(none)"
	}
	if rule == "" {
		rule = "(none)"
	}
	rows := [][]string{
		{"policy", policy},
		{"rule", rule},
		{"reason", str(data["reason"])},
		{"evaluated", strings.Join(anyStrings(data["policies"]), ", ")},
	}
	if unknown := anyStrings(data["unknown_policies"]); len(unknown) > 0 {
		rows = append(rows, []string{"unknown policies", strings.Join(unknown, ", ")})
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, answer)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], strings.NewReplacer("\t", " ", "\n", " ").Replace(r[1]))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write answer: %w", err)
	}
	return nil
}
