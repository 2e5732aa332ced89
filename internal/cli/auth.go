package cli

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) authCommand() *cobra.Command {
	return a.addAPIFlags(a.groupCommand("auth", "Enable, list, tune, move and disable auth methods",
		`Commands for auth methods: each method is enabled at a path under auth/, like
userpass at auth/userpass/. Logging in is "coffer login -method=TYPE".`,
		a.authEnableCommand(),
		a.authDisableCommand(),
		a.authListCommand(),
		a.authTuneCommand(),
		a.authMoveCommand(),
	))
}

// authTokenType validates a -token-type flag.
func authTokenType(cmd *cobra.Command, t string) error {
	switch t {
	case "", "default-service", "default-batch", "service", "batch":
		return nil
	}
	return usageError(cmd, "invalid -token-type %q: want default-service, default-batch, service or batch", t)
}

func (a *app) authEnableCommand() *cobra.Command {
	var tune mountTuning
	var mountPath, tokenType string
	var local bool
	cmd := &cobra.Command{
		Use:   "enable [flags] TYPE",
		Short: "Enable an auth method",
		Long: `Enable an auth method of TYPE (userpass, approle, jwt, oidc, kubernetes, cert)
at auth/<-path> (default: the type's name). -token-type sets which tokens its
logins get: default-service (the default) and default-batch give way to a
role's token_type; service and batch force it.`,
		Example: `  coffer auth enable userpass
  coffer auth enable -path=ci -token-type=default-batch approle`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			cfg, opts, err := tune.config(cmd)
			if err != nil {
				return err
			}
			if err := authTokenType(cmd, tokenType); err != nil {
				return err
			}
			if tokenType != "" {
				cfg["token_type"] = tokenType
			}
			method := strings.TrimSpace(args[0])
			if mountPath == "" {
				mountPath = method
			}
			mountPath = strings.Trim(strings.TrimPrefix(strings.Trim(mountPath, "/"), "auth/"), "/")
			body := map[string]any{"type": method, "description": tune.description, "config": cfg, "local": local}
			if len(opts) > 0 {
				body["options"] = opts
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			if _, err := c.Do(cmd.Context(), http.MethodPost, "sys/auth/"+mountPath, body, nil); err != nil {
				return fmt.Errorf("enabling: %w", err)
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Enabled %s auth method at: %s/\n", method, mountPath)
			return err
		}),
	}
	tune.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&mountPath, "path", "", "where to enable the method, under auth/ (default: TYPE)")
	f.StringVar(&tokenType, "token-type", "", "default-service, default-batch, service or batch")
	f.BoolVar(&local, "local", false, "do not replicate the method")
	return cmd
}

func (a *app) authDisableCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "disable PATH",
		Short: "Disable an auth method, revoking its tokens",
		Long: `Disable the auth method at PATH (under auth/): every service token it issued is
revoked with its leases, its batch tokens stop working, and its roles, users
and settings are deleted.`,
		Example: "  coffer auth disable userpass/",
		Args:    argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			p := strings.Trim(strings.TrimPrefix(strings.Trim(args[0], "/"), "auth/"), "/")
			if _, err := c.Delete(cmd.Context(), "sys/auth/"+p, nil); err != nil {
				return fmt.Errorf("disabling: %w", err)
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Disabled the auth method (if it existed) at: %s/\n", p)
			return err
		}),
	}
}

func (a *app) authTuneCommand() *cobra.Command {
	var tune mountTuning
	var tokenType string
	cmd := &cobra.Command{
		Use:   "tune [flags] PATH",
		Short: "Change an auth method's settings",
		Long: `Change the description, token TTLs or token type of the auth method at PATH
(under auth/). The TTLs cap the tokens its logins get. Only the flags given change.`,
		Example: `  coffer auth tune -max-lease-ttl=8h userpass/
  coffer auth tune -token-type=batch ci/`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			body, _, err := tune.config(cmd)
			if err != nil {
				return err
			}
			if err := authTokenType(cmd, tokenType); err != nil {
				return err
			}
			if tokenType != "" {
				body["token_type"] = tokenType
			}
			if cmd.Flags().Changed("description") {
				body["description"] = tune.description
			}
			if len(body) == 0 {
				return usageError(cmd, "nothing to tune: give at least one flag")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			p := strings.Trim(strings.TrimPrefix(strings.Trim(args[0], "/"), "auth/"), "/")
			if _, err := c.Do(cmd.Context(), http.MethodPost, "sys/auth/"+p+"/tune", body, nil); err != nil {
				return fmt.Errorf("tuning: %w", err)
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Tuned the auth method at: %s/\n", p)
			return err
		}),
	}
	tune.addFlags(cmd)
	cmd.Flags().StringVar(&tokenType, "token-type", "", "default-service, default-batch, service or batch")
	return cmd
}

func (a *app) authListCommand() *cobra.Command {
	return a.mountsListCommand("sys/auth", "auth methods", `  coffer auth list
  coffer auth list -detailed -format=json`)
}
