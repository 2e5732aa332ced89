package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// rekeyFlags are the flags of `operator rekey`.
type rekeyFlags struct {
	init, cancel, status bool
	shares, threshold    int
	nonce                string
}

func (a *app) operatorRekeyCommand() *cobra.Command {
	var fl rekeyFlags
	cmd := &cobra.Command{
		Use:   "rekey [KEY]",
		Short: "Generate new unseal key shares from a quorum of the current ones",
		Long: `Replace the unseal key shares, for example when a key holder leaves. The
root key and the data it protects do not change.

The flow, as with Vault:
  1. one operator starts with -init, choosing the new -key-shares and
     -key-threshold; this prints the operation nonce;
  2. holders of the current shares each run "coffer operator rekey" with
     their share (as KEY, or typed without echo when KEY is omitted), passing
     -nonce to make sure they take part in the operation they expect;
  3. the command that completes the threshold prints the new shares.

-status prints the progress; -cancel discards the operation.`,
		Example: `  coffer operator rekey -init -key-shares=5 -key-threshold=3
  coffer operator rekey -nonce=6c6a1f0e-...
  coffer operator rekey -status
  coffer operator rekey -cancel`,
		Args: argsBetween(0, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			return a.rekey(cmd, fl, args)
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&fl.init, "init", false, "start a rekey operation")
	f.BoolVar(&fl.cancel, "cancel", false, "cancel the rekey operation in progress")
	f.BoolVar(&fl.status, "status", false, "print the progress of the rekey operation")
	f.IntVar(&fl.shares, "key-shares", 5, "number of new unseal key shares (with -init)")
	f.IntVar(&fl.threshold, "key-threshold", 3, "number of new shares required to unseal (with -init)")
	f.StringVar(&fl.nonce, "nonce", "", "nonce of the rekey operation to provide a share to (default: the one in progress)")
	cmd.MarkFlagsMutuallyExclusive("init", "cancel", "status")
	return cmd
}

// rekey runs the rekey step the flags ask for.
func (a *app) rekey(cmd *cobra.Command, fl rekeyFlags, args []string) error {
	p, c, err := a.session(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	switch {
	case fl.cancel:
		if err := c.DoRaw(ctx, http.MethodDelete, "sys/rekey/init", nil, nil, nil); err != nil {
			return fmt.Errorf("canceling rekey: %w", err)
		}
		_, err := fmt.Fprintln(a.stdout, "Success! Canceled rekeying (if it was started)")
		return err
	case fl.init:
		if fl.shares < 1 || fl.threshold < 1 || fl.threshold > fl.shares {
			return usageError(cmd, "-key-threshold must be between 1 and -key-shares (%d)", fl.shares)
		}
		body := map[string]any{"secret_shares": fl.shares, "secret_threshold": fl.threshold}
		var st map[string]any
		if err := c.DoRaw(ctx, http.MethodPut, "sys/rekey/init", body, nil, &st); err != nil {
			return fmt.Errorf("initializing rekey: %w", err)
		}
		return printRekeyStatus(p, st)
	case fl.status:
		st, err := rekeyStatus(ctx, c)
		if err != nil {
			return err
		}
		return printRekeyStatus(p, st)
	}
	return a.rekeyProvide(ctx, c, p, fl.nonce, args)
}

func rekeyStatus(ctx context.Context, c *apiclient.Client) (map[string]any, error) {
	var st map[string]any
	if err := c.DoRaw(ctx, http.MethodGet, "sys/rekey/init", nil, nil, &st); err != nil {
		return nil, fmt.Errorf("reading rekey status: %w", err)
	}
	return st, nil
}

// rekeyProvide submits one current unseal key share to the operation.
func (a *app) rekeyProvide(ctx context.Context, c *apiclient.Client, p *printer, nonce string, args []string) error {
	// The status names the operation's nonce and its new threshold, which
	// the final answer does not repeat.
	st, err := rekeyStatus(ctx, c)
	if err != nil {
		return err
	}
	if st["started"] != true {
		return errors.New(`no rekey is in progress: start one with "coffer operator rekey -init"`)
	}
	if nonce == "" {
		nonce = str(st["nonce"])
		fmt.Fprintf(a.stderr, "Rekey operation nonce: %s\n", nonce)
	}
	key, err := a.argOrSecret(args, "Unseal Key (will be hidden): ")
	if err != nil {
		return err
	}
	var resp map[string]any
	body := map[string]any{"key": key, "nonce": nonce}
	if err := c.DoRaw(ctx, http.MethodPut, "sys/rekey/update", body, nil, &resp); err != nil {
		return fmt.Errorf("providing rekey share: %w", err)
	}
	if resp["complete"] != true {
		if st, err := rekeyStatus(ctx, c); err == nil {
			return printRekeyStatus(p, st)
		}
		return printRekeyStatus(p, resp)
	}
	if p.format != "table" || p.field != "" {
		return p.data(resp)
	}
	return printRekeyResult(a, resp, st["t"])
}

func printRekeyResult(a *app, resp map[string]any, threshold any) error {
	keys := anyStrings(resp["keys_base64"])
	if len(keys) == 0 {
		keys = orHexToB64(nil, anyStrings(resp["keys"]))
	}
	var b strings.Builder
	for i, k := range keys {
		fmt.Fprintf(&b, "Key %d: %s\n", i+1, k)
	}
	fmt.Fprintf(&b, "\nOperation nonce: %s\n\n", str(resp["nonce"]))
	fmt.Fprintf(&b, `Coffer unseal keys rekeyed with %d key shares and a key threshold of %s.
Please securely distribute the key shares printed above. When the server is
re-sealed, restarted, or stopped, you must supply at least %s of these keys
to unseal it before it can start servicing requests.
`, len(keys), str(threshold), str(threshold))
	_, err := fmt.Fprint(a.stdout, b.String())
	return err
}

func printRekeyStatus(p *printer, st map[string]any) error {
	if p.format != "table" || p.field != "" {
		return p.data(st)
	}
	rows := [][]string{
		{"Nonce", str(st["nonce"])},
		{"Started", str(st["started"])},
		{"Rekey Progress", fmt.Sprintf("%s/%s", str(st["progress"]), str(st["required"]))},
		{"New Shares", str(st["n"])},
		{"New Threshold", str(st["t"])},
		{"Verification Required", fmt.Sprint(st["verification_required"] == true)},
	}
	return writeTable(p.out, []string{"Key", "Value"}, rows)
}

// anyStrings converts a decoded JSON array of strings.
func anyStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
