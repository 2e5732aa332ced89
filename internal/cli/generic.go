package cli

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
)

// genericCommands are read, write, list, delete and patch: raw API calls on
// any path, as in the Vault CLI.
func (a *app) genericCommands() []*cobra.Command {
	return []*cobra.Command{
		a.addAPIFlags(a.readCommand()),
		a.addAPIFlags(a.writeCommand()),
		a.addAPIFlags(a.listCommand()),
		a.addAPIFlags(a.deleteCommand()),
		a.addAPIFlags(a.patchCommand()),
	}
}

// queryFromArgs turns key=value arguments into query parameters.
func queryFromArgs(cmd *cobra.Command, args []string) (url.Values, error) {
	if len(args) == 0 {
		return nil, nil
	}
	q := url.Values{}
	for _, arg := range args {
		k, v, ok := strings.Cut(arg, "=")
		if !ok || k == "" {
			return nil, usageError(cmd, "invalid argument %q: want key=value", truncate(arg))
		}
		q.Add(k, v)
	}
	return q, nil
}

func cleanPath(p string) string { return strings.TrimPrefix(p, "/") }

func (a *app) readCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "read PATH [K=V...]",
		Short: "Read data at any API path",
		Long:  "Read from any API path (GET /v1/PATH). key=value arguments become query parameters.",
		Example: `  coffer read sys/mounts
  coffer read -field=policy sys/policies/acl/default
  coffer read secret/data/app version=1`,
		Args: argsBetween(1, -1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			p, err := a.printer(cmd)
			if err != nil {
				return err
			}
			q, err := queryFromArgs(cmd, args[1:])
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			path := cleanPath(args[0])
			s, err := c.Read(cmd.Context(), path, q)
			if err != nil {
				return err
			}
			if s == nil {
				return noValue(path)
			}
			return p.secret(s)
		}),
	}
}

func (a *app) writeCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "write PATH [K=V...]",
		Short: "Write data to any API path",
		Long: `Write to any API path (PUT /v1/PATH). Data arguments: key=value; key=@file
reads a file; key=- reads stdin; a lone "-" reads a JSON object from stdin.
Use -force to write with no data.`,
		Example: `  coffer write sys/policies/acl/app policy=@app.hcl
  echo '{"type":"kv"}' | coffer write sys/mounts/team -
  coffer write -force auth/token/revoke-self`,
		Args: argsBetween(1, -1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && !force {
				return usageError(cmd, "no data given: add key=value arguments, or -force to write nothing")
			}
			data, err := parseData(args[1:], a.stdin)
			if err != nil {
				return usageError(cmd, "%v", err)
			}
			return a.writeLike(cmd, cleanPath(args[0]), data, false)
		}),
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "write even without data")
	return cmd
}

func (a *app) patchCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "patch PATH [K=V...]",
		Short: "Patch data at any API path",
		Long:  "Send a JSON merge patch to any API path (PATCH /v1/PATH), with the same data arguments as write.",
		Example: `  coffer patch secret/data/app data=- <<< '{"password":"n3w"}'
  coffer patch sys/some/config enabled=true`,
		Args: argsBetween(2, -1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			data, err := parseData(args[1:], a.stdin)
			if err != nil {
				return usageError(cmd, "%v", err)
			}
			return a.writeLike(cmd, cleanPath(args[0]), data, true)
		}),
	}
}

// writeLike sends a write or patch and prints the answer, or the success
// line when the server answered with no content.
func (a *app) writeLike(cmd *cobra.Command, path string, data map[string]any, patch bool) error {
	p, c, err := a.session(cmd)
	if err != nil {
		return err
	}
	send := c.Write
	if patch {
		send = c.Patch
	}
	s, err := send(cmd.Context(), path, data)
	if err != nil {
		return err
	}
	if s == nil || (len(s.Data) == 0 && s.Auth == nil && s.WrapInfo == nil && len(s.Warnings) == 0) {
		if p.format == "table" && p.field == "" {
			_, err := fmt.Fprintf(a.stdout, "Success! Data written to: %s\n", path)
			return err
		}
		if s == nil {
			return nil
		}
	}
	return p.secret(s)
}

func (a *app) listCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list PATH",
		Short: "List the keys at any API path",
		Long:  "List the keys at any API path (GET /v1/PATH?list=true).",
		Example: `  coffer list secret/metadata/
  coffer list sys/policies/acl`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			path := cleanPath(args[0])
			s, err := c.List(cmd.Context(), path)
			if err != nil {
				return err
			}
			if s == nil || s.Data["keys"] == nil {
				return noValue(path)
			}
			return p.list(s)
		}),
	}
}

func (a *app) deleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "delete PATH [K=V...]",
		Short: "Delete data at any API path",
		Long:  "Delete at any API path (DELETE /v1/PATH). key=value arguments become query parameters.",
		Example: `  coffer delete secret/data/app
  coffer delete sys/mounts/team`,
		Args: argsBetween(1, -1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			q, err := queryFromArgs(cmd, args[1:])
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			path := cleanPath(args[0])
			if _, err := c.Delete(cmd.Context(), path, q); err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Data deleted (if it existed) at: %s\n", path)
			return err
		}),
	}
}
