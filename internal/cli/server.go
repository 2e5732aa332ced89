package cli

import (
	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/server"
)

func (a *app) serverCommand() *cobra.Command {
	var opts server.Options
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Start a Coffer server",
		Long: `Start a Coffer server that serves the Vault HTTP API until interrupted.

With -config, the server reads its configuration file. With -dev, it runs an
in-memory, already unsealed server over plain HTTP with a known root token:
for development only, never with real secrets.

-dev-root-token-id and -dev-listen-address default to $COFFER_DEV_ROOT_TOKEN_ID
and $COFFER_DEV_LISTEN_ADDRESS (or their VAULT_ equivalents).`,
		Example: `  coffer server -config=/etc/coffer/coffer.hcl
  coffer server -dev -dev-root-token-id=root -dev-listen-address=127.0.0.1:8200`,
		Args: argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			if opts.ConfigPath == "" && !opts.Dev {
				return usageError(cmd, "a configuration file must be given with -config, or use -dev")
			}
			if opts.DevRootTokenID == "" {
				opts.DevRootTokenID = a.env("DEV_ROOT_TOKEN_ID")
			}
			if opts.DevListenAddress == "" {
				opts.DevListenAddress = a.env("DEV_LISTEN_ADDRESS")
			}
			return server.Run(cmd.Context(), opts, a.stdout, a.stderr)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&opts.ConfigPath, "config", "", "path to the server configuration file")
	f.BoolVar(&opts.Dev, "dev", false, "run an in-memory, unsealed development server")
	f.StringVar(&opts.DevRootTokenID, "dev-root-token-id", "", "root token of the development server")
	f.StringVar(&opts.DevListenAddress, "dev-listen-address", "", "address the development server listens on (default 127.0.0.1:8200)")
	f.StringVar(&opts.LogLevel, "log-level", "", "log level: trace, debug, info, warn or error (default: the config's, or info)")
	return cmd
}

// env reads COFFER_<name>, then VAULT_<name>.
func (a *app) env(name string) string {
	if v := a.getenv("COFFER_" + name); v != "" {
		return v
	}
	return a.getenv("VAULT_" + name)
}
