package cli

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) operatorCommand() *cobra.Command {
	return a.addAPIFlags(a.groupCommand("operator", "Operate the server: init, unseal, seal, rotate, rekey, generate-root",
		"Commands for operators: initialise and unseal the server, seal it, rotate the\nencryption key, rekey the unseal keys and generate a new root token.",
		a.operatorInitCommand(),
		a.operatorUnsealCommand(),
		a.operatorSealCommand(),
		a.operatorStepDownCommand(),
		a.operatorRotateCommand(),
		a.operatorKeyStatusCommand(),
		a.operatorRekeyCommand(),
		a.operatorGenerateRootCommand(),
		a.operatorRaftCommand(),
	))
}

// initOutput is `operator init -format=json`, field for field as Vault prints it.
type initOutput struct {
	UnsealKeysB64     []string `json:"unseal_keys_b64"`
	UnsealKeysHex     []string `json:"unseal_keys_hex"`
	UnsealShares      int      `json:"unseal_shares"`
	UnsealThreshold   int      `json:"unseal_threshold"`
	RecoveryKeysB64   []string `json:"recovery_keys_b64"`
	RecoveryKeysHex   []string `json:"recovery_keys_hex"`
	RecoveryShares    int      `json:"recovery_keys_shares"`
	RecoveryThreshold int      `json:"recovery_keys_threshold"`
	RootToken         string   `json:"root_token"`
}

func (a *app) operatorInitCommand() *cobra.Command {
	var shares, threshold int
	var status bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Initialise a new server and print its unseal keys and root token",
		Long: `Initialise a new server: generate the root key, split it into unseal key
shares with Shamir's secret sharing, and print the shares and the initial root
token. This happens once in a server's life; the output is shown only once.

With -status, print whether the server is initialised instead; the exit code
is 0 when it is and 2 when it is not.`,
		Example: `  coffer operator init
  coffer operator init -key-shares=3 -key-threshold=2 -format=json
  coffer operator init -status`,
		Args: argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			if status {
				return a.initStatus(cmd)
			}
			if shares < 1 || threshold < 1 || threshold > shares {
				return usageError(cmd, "-key-threshold must be between 1 and -key-shares (%d)", shares)
			}
			return a.initialize(cmd, shares, threshold)
		}),
	}
	f := cmd.Flags()
	f.IntVar(&shares, "key-shares", 5, "number of unseal key shares to split the root key into")
	f.IntVar(&threshold, "key-threshold", 3, "number of shares required to unseal")
	f.BoolVar(&status, "status", false, "print the initialisation status only")
	return cmd
}

// initStatus prints whether the server is initialised; exit code 2 if not.
func (a *app) initStatus(cmd *cobra.Command) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	var st struct {
		Initialized bool `json:"initialized"`
	}
	if err := c.DoRaw(cmd.Context(), http.MethodGet, "sys/init", nil, nil, &st); err != nil {
		return fmt.Errorf("checking init status: %w", err)
	}
	if !st.Initialized {
		fmt.Fprintln(a.stdout, "Coffer is not initialized")
		return quietExit(exitUsage)
	}
	_, err = fmt.Fprintln(a.stdout, "Coffer is initialized")
	return err
}

// initialize runs sys/init and prints the unseal keys and root token.
func (a *app) initialize(cmd *cobra.Command, shares, threshold int) error {
	p, c, err := a.session(cmd)
	if err != nil {
		return err
	}
	var resp struct {
		Keys      []string `json:"keys"`
		KeysB64   []string `json:"keys_base64"`
		RootToken string   `json:"root_token"`
	}
	body := map[string]any{"secret_shares": shares, "secret_threshold": threshold}
	if err := c.DoRaw(cmd.Context(), http.MethodPut, "sys/init", body, nil, &resp); err != nil {
		return fmt.Errorf("initializing: %w", err)
	}
	out := initOutput{
		UnsealKeysB64: orHexToB64(resp.KeysB64, resp.Keys), UnsealKeysHex: resp.Keys,
		UnsealShares: shares, UnsealThreshold: threshold,
		RecoveryKeysB64: []string{}, RecoveryKeysHex: []string{}, RootToken: resp.RootToken,
	}
	if p.format != "table" {
		return p.structured(out)
	}
	return printInit(a, out)
}

// orHexToB64 returns b64 when the server sent it, else converts the hex keys.
func orHexToB64(b64, hexKeys []string) []string {
	if len(b64) > 0 {
		return b64
	}
	out := make([]string, 0, len(hexKeys))
	for _, k := range hexKeys {
		raw, err := hex.DecodeString(k)
		if err != nil {
			return hexKeys
		}
		out = append(out, base64.StdEncoding.EncodeToString(raw))
	}
	return out
}

func printInit(a *app, out initOutput) error {
	var b strings.Builder
	for i, k := range out.UnsealKeysB64 {
		fmt.Fprintf(&b, "Unseal Key %d: %s\n", i+1, k)
	}
	fmt.Fprintf(&b, "\nInitial Root Token: %s\n\n", out.RootToken)
	fmt.Fprintf(&b, `Coffer initialized with %d key shares and a key threshold of %d. Please
securely distribute the key shares printed above. When the server is
re-sealed, restarted, or stopped, you must supply at least %d of these keys
to unseal it before it can start servicing requests.

Coffer does not store the generated root key. Without at least %d keys to
reconstruct the root key, Coffer will remain permanently sealed!

It is possible to generate new unseal keys, provided you have a quorum of
existing unseal keys shares. See "coffer operator rekey" for more information.
`, out.UnsealShares, out.UnsealThreshold, out.UnsealThreshold, out.UnsealThreshold)
	_, err := fmt.Fprint(a.stdout, b.String())
	return err
}

func (a *app) operatorUnsealCommand() *cobra.Command {
	var reset bool
	cmd := &cobra.Command{
		Use:   "unseal [KEY]",
		Short: "Provide one unseal key share",
		Long: `Provide one unseal key share. Once the threshold of shares is reached, the
server unseals. Without KEY, the share is read without echo from the terminal,
or as one line from stdin when stdin is not a terminal, so that it never lands
in the shell history. -reset discards the shares provided so far.`,
		Example: `  coffer operator unseal
  echo "$KEY" | coffer operator unseal
  coffer operator unseal -reset`,
		Args: argsBetween(0, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			body := map[string]any{"reset": true}
			if !reset {
				key, err := a.argOrSecret(args, "Unseal Key (will be hidden): ")
				if err != nil {
					return err
				}
				body = map[string]any{"key": key}
			}
			var st map[string]any
			if err := c.DoRaw(cmd.Context(), http.MethodPut, "sys/unseal", body, nil, &st); err != nil {
				return fmt.Errorf("unsealing: %w", err)
			}
			return printSealStatus(p, st, nil)
		}),
	}
	cmd.Flags().BoolVar(&reset, "reset", false, "discard the unseal key shares provided so far")
	return cmd
}

// argOrSecret returns args[0], or reads a secret value from stdin.
func (a *app) argOrSecret(args []string, prompt string) (string, error) {
	if len(args) > 0 && args[0] != "-" {
		return strings.TrimSpace(args[0]), nil
	}
	v, err := readSecret(a.stdin, a.stderr, prompt)
	if err != nil {
		return "", err
	}
	if v == "" {
		return "", errors.New("no key provided")
	}
	return v, nil
}

func (a *app) operatorSealCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "seal",
		Short: "Seal the server",
		Long: `Seal the server: it forgets its root key and answers 503 until it is unsealed
again with a threshold of unseal key shares. Requires a token with sudo on
sys/seal.`,
		Example: "  coffer operator seal",
		Args:    argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.DoRaw(cmd.Context(), http.MethodPut, "sys/seal", nil, nil, nil); err != nil {
				return fmt.Errorf("sealing: %w", err)
			}
			_, err = fmt.Fprintln(a.stdout, "Success! Coffer is sealed.")
			return err
		}),
	}
}

func (a *app) operatorStepDownCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "step-down",
		Short: "Make the active node of a cluster hand over to another node",
		Long: `Make the active node of a raft cluster give up leadership: raft hands it to
another voter, which becomes the active node; the old one becomes a standby.
It may be sent to any node (a standby forwards it). Requires a token with
sudo on sys/step-down.`,
		Example: "  coffer operator step-down",
		Args:    argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.DoRaw(cmd.Context(), http.MethodPut, "sys/step-down", nil, nil, nil); err != nil {
				return fmt.Errorf("step-down: %w", err)
			}
			_, err = fmt.Fprintln(a.stdout, "Success! Stepped down: another node is now the active node.")
			return err
		}),
	}
}

func (a *app) operatorRotateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate",
		Short: "Rotate the encryption key of the storage barrier",
		Long: `Add a new encryption key to the keyring that protects stored data. New writes
use the new key; existing data stays readable with the older terms.`,
		Example: "  coffer operator rotate",
		Args:    argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			if err := c.DoRaw(cmd.Context(), http.MethodPut, "sys/rotate", nil, nil, nil); err != nil {
				return fmt.Errorf("rotating key: %w", err)
			}
			if p.format == "table" && p.field == "" {
				fmt.Fprintln(a.stdout, "Success! Rotated key")
				fmt.Fprintln(a.stdout)
			}
			return a.printKeyStatus(cmd, p)
		}),
	}
}

func (a *app) operatorKeyStatusCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "key-status",
		Short:   "Print the term and install time of the current encryption key",
		Long:    "Print the term, install time and encryption count of the barrier's active key.",
		Example: "  coffer operator key-status",
		Args:    argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			p, err := a.printer(cmd)
			if err != nil {
				return err
			}
			return a.printKeyStatus(cmd, p)
		}),
	}
}

func (a *app) printKeyStatus(cmd *cobra.Command, p *printer) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	var body map[string]any
	if err := c.DoRaw(cmd.Context(), http.MethodGet, "sys/key-status", nil, nil, &body); err != nil {
		return fmt.Errorf("reading key status: %w", err)
	}
	st := bodyData(body)
	if p.format != "table" || p.field != "" {
		return p.data(st)
	}
	rows := [][]string{
		{"Key Term", str(st["term"])},
		{"Install Time", str(st["install_time"])},
		{"Encryption Count", str(st["encryptions"])},
	}
	return writeTable(p.out, []string{"Key", "Value"}, rows)
}

// bodyData returns the "data" object of a body that has one, else the body:
// some sys/ endpoints answer with the envelope, others with bare JSON.
func bodyData(body map[string]any) map[string]any {
	if d, ok := body["data"].(map[string]any); ok && len(d) > 0 {
		return d
	}
	return body
}
