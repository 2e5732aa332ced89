package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// globalFlags are the flags every API command takes.
type globalFlags struct {
	address       string
	caCert        string
	clientCert    string
	clientKey     string
	tlsSkipVerify bool
	format        string
	field         string
}

// normalizeArgs lets single-dash long flags through cobra, as the Vault CLI
// accepts them: "-format=json" becomes "--format=json". An argument is
// rewritten when it is one dash followed by at least two letters; "-",
// "-h", negative numbers and everything after "--" stay as they are.
func normalizeArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for i, arg := range args {
		if arg == "--" {
			return append(out, args[i:]...)
		}
		if len(arg) >= 3 && arg[0] == '-' && isLetter(arg[1]) && isLetter(arg[2]) {
			arg = "-" + arg
		}
		out = append(out, arg)
	}
	return out
}

func isLetter(b byte) bool {
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')
}

// addAPIFlags adds the client flags to cmd and, through persistence, to its
// subcommands.
func (a *app) addAPIFlags(cmd *cobra.Command) *cobra.Command {
	f := cmd.PersistentFlags()
	f.StringVar(&a.flags.address, "address", "", "server address (default $COFFER_ADDR, $VAULT_ADDR or "+apiclient.DefaultAddress+")")
	f.StringVar(&a.flags.caCert, "ca-cert", "", "PEM file of CA certificates to verify the server with (default $COFFER_CACERT)")
	f.StringVar(&a.flags.clientCert, "client-cert", "", "PEM client certificate for TLS authentication (default $COFFER_CLIENT_CERT)")
	f.StringVar(&a.flags.clientKey, "client-key", "", "PEM private key for -client-cert (default $COFFER_CLIENT_KEY)")
	f.BoolVar(&a.flags.tlsSkipVerify, "tls-skip-verify", false, "do not verify the server's TLS certificate (insecure)")
	f.StringVar(&a.flags.format, "format", "", "output format: table, json or yaml (default $COFFER_FORMAT or table)")
	f.StringVar(&a.flags.field, "field", "", "print only this field's raw value")
	return cmd
}

// client builds an API client from the environment and the global flags.
func (a *app) client() (*apiclient.Client, error) {
	cfg := apiclient.ConfigFromEnv(a.getenv)
	if a.flags.address != "" {
		cfg.Address = a.flags.address
	}
	if a.flags.caCert != "" {
		cfg.CACert = a.flags.caCert
	}
	if a.flags.clientCert != "" {
		cfg.ClientCert = a.flags.clientCert
	}
	if a.flags.clientKey != "" {
		cfg.ClientKey = a.flags.clientKey
	}
	if a.flags.tlsSkipVerify {
		cfg.TLSSkipVerify = true
	}
	c, err := apiclient.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return c, nil
}

// format returns the output format: the flag, then COFFER_FORMAT, then
// VAULT_FORMAT, then "table". It is a usage error when unknown.
func (a *app) format(cmd *cobra.Command) (string, error) {
	f := a.flags.format
	if f == "" {
		f = a.getenv("COFFER_FORMAT")
	}
	if f == "" {
		f = a.getenv("VAULT_FORMAT")
	}
	f = strings.ToLower(f)
	switch f {
	case "":
		return "table", nil
	case "table", "json", "yaml":
		return f, nil
	case "yml":
		return "yaml", nil
	}
	return "", usageError(cmd, "invalid output format %q: want table, json or yaml", f)
}
