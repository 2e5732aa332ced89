package cli

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) tokenCommand() *cobra.Command {
	return a.addAPIFlags(a.groupCommand("token", "Create, inspect, renew and revoke tokens",
		"Commands for tokens: create, lookup, renew, revoke and capabilities.",
		a.tokenCreateCommand(),
		a.tokenLookupCommand(),
		a.tokenRenewCommand(),
		a.tokenRevokeCommand(),
		a.tokenCapabilitiesCommand(),
	))
}

// tokenCreateFlags are the flags of `token create`, named as in Vault.
type tokenCreateFlags struct {
	id, displayName, role, tokenType, entityAlias string
	ttl, explicitMaxTTL, period                   durationFlag
	renewable, orphan, noDefaultPolicy            bool
	useLimit                                      int
	policies, metadata                            []string
}

func (a *app) tokenCreateCommand() *cobra.Command {
	var fl tokenCreateFlags
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a new token",
		Long: `Create a new token, a child of the calling token unless -orphan is given. The
new token gets the given -policy values (repeatable or comma-separated) plus
"default" unless -no-default-policy is set. With -role, the token role
(auth/token/roles/<name>) bounds and shapes the token instead: its allowed and
disallowed policies, orphan, renewable, period, use limit and type.`,
		Example: `  coffer token create -policy=app -ttl=1h
  coffer token create -policy=ci -period=24h -metadata=team=infra -orphan
  coffer token create -type=batch -policy=reader -field=token
  coffer token create -role=deploy -policy=deploy`,
		Args: argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			p, err := a.printer(cmd)
			if err != nil {
				return err
			}
			body, err := fl.body()
			if err != nil {
				return usageError(cmd, "%v", err)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			path := "auth/token/create"
			switch {
			case fl.role != "":
				path = "auth/token/create/" + fl.role
			case fl.orphan:
				path = "auth/token/create-orphan"
			}
			s, err := c.Do(cmd.Context(), http.MethodPost, path, body, nil)
			if err != nil {
				return fmt.Errorf("creating token: %w", err)
			}
			return p.secret(s)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&fl.id, "id", "", "value of the new token (default: generated)")
	f.StringVar(&fl.displayName, "display-name", "", "name associated with the token")
	f.Var(&fl.ttl, "ttl", "initial TTL of the token, e.g. 1h")
	f.Var(&fl.explicitMaxTTL, "explicit-max-ttl", "hard maximum lifetime; renewals never pass it")
	f.Var(&fl.period, "period", "make a periodic token renewable by this period indefinitely")
	f.BoolVar(&fl.renewable, "renewable", true, "allow the token to be renewed")
	f.BoolVar(&fl.orphan, "orphan", false, "create the token without a parent, so revoking the parent spares it")
	f.BoolVar(&fl.noDefaultPolicy, "no-default-policy", false, `do not attach the "default" policy`)
	f.IntVar(&fl.useLimit, "use-limit", 0, "number of uses before the token is revoked (0: unlimited)")
	f.StringSliceVar(&fl.policies, "policy", nil, "policy to attach (repeatable, or comma-separated)")
	f.StringArrayVar(&fl.metadata, "metadata", nil, "key=value metadata (repeatable)")
	f.StringVar(&fl.role, "role", "", "create the token against this token role")
	f.StringVar(&fl.tokenType, "type", "", "token type: service or batch (default: service)")
	f.StringVar(&fl.entityAlias, "entity-alias", "", "entity alias to associate with the token (with -role)")
	return cmd
}

// body builds the auth/token/create request body, sending only what was set.
func (fl *tokenCreateFlags) body() (map[string]any, error) {
	body := map[string]any{"renewable": fl.renewable}
	set := func(k, v string) {
		if v != "" {
			body[k] = v
		}
	}
	set("id", fl.id)
	set("display_name", fl.displayName)
	set("type", fl.tokenType)
	set("entity_alias", fl.entityAlias)
	set("ttl", fl.ttl.text)
	set("explicit_max_ttl", fl.explicitMaxTTL.text)
	set("period", fl.period.text)
	if len(fl.policies) > 0 {
		body["policies"] = fl.policies
	}
	if fl.useLimit != 0 {
		body["num_uses"] = fl.useLimit
	}
	if fl.orphan {
		body["no_parent"] = true
	}
	if fl.noDefaultPolicy {
		body["no_default_policy"] = true
	}
	if len(fl.metadata) > 0 {
		meta := map[string]string{}
		for _, kv := range fl.metadata {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("invalid -metadata %q: want key=value", kv)
			}
			meta[k] = v
		}
		body["meta"] = meta
	}
	return body, nil
}

func (a *app) tokenLookupCommand() *cobra.Command {
	var accessor bool
	cmd := &cobra.Command{
		Use:   "lookup [TOKEN]",
		Short: "Print a token's properties",
		Long: `Print a token's policies, TTL, metadata and more. Without TOKEN, the calling
token is looked up. With -accessor, the argument is a token accessor.`,
		Example: `  coffer token lookup
  coffer token lookup hvs.CAESI...
  coffer token lookup -accessor 8609694a-cdbc-db9b-d345-e782dbb562ed`,
		Args: argsBetween(0, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			if accessor && len(args) == 0 {
				return usageError(cmd, "-accessor needs an accessor argument")
			}
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			method, path, body := http.MethodGet, "auth/token/lookup-self", map[string]any(nil)
			switch {
			case accessor:
				method, path, body = http.MethodPost, "auth/token/lookup-accessor", map[string]any{"accessor": args[0]}
			case len(args) == 1:
				method, path, body = http.MethodPost, "auth/token/lookup", map[string]any{"token": args[0]}
			}
			s, err := c.Do(cmd.Context(), method, path, body, nil)
			if err != nil {
				return fmt.Errorf("looking up token: %w", err)
			}
			return p.secret(s)
		}),
	}
	cmd.Flags().BoolVar(&accessor, "accessor", false, "treat the argument as a token accessor")
	return cmd
}

func (a *app) tokenRenewCommand() *cobra.Command {
	var accessor bool
	var increment durationFlag
	cmd := &cobra.Command{
		Use:   "renew [TOKEN]",
		Short: "Extend a token's TTL",
		Long: `Renew a token, extending its TTL by -increment (default: the token's own TTL),
within its maximum TTL. Without TOKEN, the calling token is renewed. With
-accessor, the argument is a token accessor.`,
		Example: `  coffer token renew
  coffer token renew -increment=30m hvs.CAESI...
  coffer token renew -accessor 8609694a-cdbc-db9b-d345-e782dbb562ed`,
		Args: argsBetween(0, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			if accessor && len(args) == 0 {
				return usageError(cmd, "-accessor needs an accessor argument")
			}
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			body := map[string]any{}
			if increment.text != "" {
				body["increment"] = increment.text
			}
			path := "auth/token/renew-self"
			switch {
			case accessor:
				path, body["accessor"] = "auth/token/renew-accessor", args[0]
			case len(args) == 1:
				path, body["token"] = "auth/token/renew", args[0]
			}
			s, err := c.Do(cmd.Context(), http.MethodPost, path, body, nil)
			if err != nil {
				return fmt.Errorf("renewing token: %w", err)
			}
			return p.secret(s)
		}),
	}
	cmd.Flags().BoolVar(&accessor, "accessor", false, "treat the argument as a token accessor")
	cmd.Flags().Var(&increment, "increment", "requested extension of the TTL, e.g. 1h")
	return cmd
}

func (a *app) tokenRevokeCommand() *cobra.Command {
	var accessor, self bool
	var mode string
	cmd := &cobra.Command{
		Use:   "revoke [TOKEN]",
		Short: "Revoke a token and, by default, its children",
		Long: `Revoke a token and all its child tokens. -self revokes the calling token;
-accessor takes a token accessor. -mode=orphan revokes only the token and
leaves its children as orphans; -mode=path revokes every lease and token
created under the path prefix given as the argument.`,
		Example: `  coffer token revoke hvs.CAESI...
  coffer token revoke -self
  coffer token revoke -mode=orphan hvs.CAESI...
  coffer token revoke -mode=path auth/userpass/login`,
		Args: argsBetween(0, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			path, body, err := revokeRequest(cmd, args, self, accessor, mode)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if _, err := c.Do(cmd.Context(), http.MethodPost, path, body, nil); err != nil {
				return fmt.Errorf("revoking token: %w", err)
			}
			_, err = fmt.Fprintln(a.stdout, "Success! Revoked token (if it existed)")
			return err
		}),
	}
	cmd.Flags().BoolVar(&accessor, "accessor", false, "treat the argument as a token accessor")
	cmd.Flags().BoolVar(&self, "self", false, "revoke the calling token")
	cmd.Flags().StringVar(&mode, "mode", "", `"orphan" keeps the children; "path" revokes a path prefix`)
	return cmd
}

// revokeRequest picks the revocation endpoint for the flags.
func revokeRequest(cmd *cobra.Command, args []string, self, accessor bool, mode string) (string, map[string]any, error) {
	switch {
	case self && len(args) > 0:
		return "", nil, usageError(cmd, "-self takes no argument")
	case self:
		return "auth/token/revoke-self", nil, nil
	case len(args) == 0:
		return "", nil, usageError(cmd, "give the token to revoke, or -self")
	case accessor && mode != "":
		return "", nil, usageError(cmd, "-accessor and -mode cannot be combined")
	case accessor:
		return "auth/token/revoke-accessor", map[string]any{"accessor": args[0]}, nil
	}
	switch mode {
	case "":
		return "auth/token/revoke", map[string]any{"token": args[0]}, nil
	case "orphan":
		return "auth/token/revoke-orphan", map[string]any{"token": args[0]}, nil
	case "path":
		return "sys/leases/revoke-prefix/" + strings.Trim(args[0], "/"), nil, nil
	}
	return "", nil, usageError(cmd, "invalid -mode %q: want orphan or path", mode)
}

func (a *app) tokenCapabilitiesCommand() *cobra.Command {
	var accessor bool
	cmd := &cobra.Command{
		Use:   "capabilities [TOKEN] PATH",
		Short: "Print a token's capabilities on a path",
		Long: `Print the capabilities a token's policies grant on PATH, such as "create,
read", "deny" or "root". Without TOKEN, the calling token is checked. With
-accessor, TOKEN is a token accessor.`,
		Example: `  coffer token capabilities secret/data/app
  coffer token capabilities hvs.CAESI... secret/data/app`,
		Args: argsBetween(1, 2),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			if accessor && len(args) != 2 {
				return usageError(cmd, "-accessor needs an accessor and a path")
			}
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			path := args[len(args)-1]
			reqPath, body := "sys/capabilities-self", map[string]any{"paths": []string{path}}
			switch {
			case accessor:
				reqPath, body["accessor"] = "sys/capabilities-accessor", args[0]
			case len(args) == 2:
				reqPath, body["token"] = "sys/capabilities", args[0]
			}
			s, err := c.Do(cmd.Context(), http.MethodPost, reqPath, body, nil)
			if err != nil {
				return fmt.Errorf("checking capabilities: %w", err)
			}
			if s == nil {
				return fmt.Errorf("checking capabilities: empty response from %s", reqPath)
			}
			return printCapabilities(p, s.Data, path)
		}),
	}
	cmd.Flags().BoolVar(&accessor, "accessor", false, "treat TOKEN as a token accessor")
	return cmd
}

// printCapabilities prints the capabilities for path (falling back to the
// legacy "capabilities" key), sorted and comma-separated.
func printCapabilities(p *printer, data map[string]any, path string) error {
	raw, ok := data[path]
	if !ok {
		raw = data["capabilities"]
	}
	caps := anyStrings(raw)
	sort.Strings(caps)
	if p.format != "table" {
		return p.structured(caps)
	}
	_, err := fmt.Fprintln(p.out, strings.Join(caps, ", "))
	return err
}
