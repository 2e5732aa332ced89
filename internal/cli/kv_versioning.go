package cli

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) kvEnableVersioningCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "enable-versioning PATH",
		Short: "Turn a KV v1 mount into KV v2, keeping its secrets",
		Long: `Upgrade the KV version 1 mount at PATH to version 2, as Vault's
"kv enable-versioning" does (it tunes options.version to 2). Every secret
becomes version 1 of its key; the mount keeps its path, accessor and tuning.
The server copies the data before it switches the mount, and refuses requests
to the mount until it is done (400, "being upgraded"). A KV v2 mount cannot go
back to version 1.`,
		Example: `  coffer kv enable-versioning kv/`,
		Args:    argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			p, err := a.printer(cmd)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			mount := ensureSlash(strings.Trim(args[0], "/"))
			fmt.Fprintf(a.stderr, "Upgrading %s to KV version 2; it refuses requests until the copy is done...\n", mount)
			s, err := c.Do(cmd.Context(), http.MethodPost, "sys/mounts/"+mount+"tune",
				map[string]any{"options": map[string]string{"version": "2"}}, nil)
			if err != nil {
				return fmt.Errorf("enabling versioning: %w", err)
			}
			if s != nil {
				p.warnings(s.Warnings)
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Tuned the secrets engine at: %s\n", mount)
			return err
		}),
	}
}
