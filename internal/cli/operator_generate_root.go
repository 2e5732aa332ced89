package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// defaultOTPLength is the length of an "hvs." service token, which is what
// the one-time password must cover when the server does not say.
const defaultOTPLength = 28

// generateRootFlags are the flags of `operator generate-root`.
type generateRootFlags struct {
	init, cancel, status, generateOTP bool
	otp, decode, nonce                string
}

func (a *app) operatorGenerateRootCommand() *cobra.Command {
	var fl generateRootFlags
	cmd := &cobra.Command{
		Use:   "generate-root [KEY]",
		Short: "Generate a new root token from a quorum of unseal keys",
		Long: `Generate a new root token with the consent of a quorum of unseal key holders,
for example after the initial root token was revoked.

The flow, as with Vault:
  1. one operator starts with -init; the server generates a one-time password
     (OTP) and shows it, or -otp supplies one made with -generate-otp;
  2. holders of unseal key shares each run "coffer operator generate-root"
     with their share (as KEY, or typed without echo), optionally with -nonce;
  3. the command that completes the threshold prints the encoded token;
  4. -decode=ENCODED -otp=OTP turns it into the root token (the encoded token
     is the root token XORed with the OTP, base64 encoded).

-status prints the progress; -cancel discards the operation.`,
		Example: `  coffer operator generate-root -init
  coffer operator generate-root
  coffer operator generate-root -decode=BTYAGhwQJQ... -otp=9Ds5tv2...
  coffer operator generate-root -cancel`,
		Args: argsBetween(0, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			p, err := a.printer(cmd)
			if err != nil {
				return err
			}
			if fl.decode != "" {
				return a.decodeRoot(p, fl)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			return a.generateRoot(cmd, c, p, fl, args)
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&fl.init, "init", false, "start a root token generation")
	f.BoolVar(&fl.cancel, "cancel", false, "cancel the generation in progress")
	f.BoolVar(&fl.status, "status", false, "print the progress of the generation")
	f.BoolVar(&fl.generateOTP, "generate-otp", false, "print a one-time password to use with -init -otp")
	f.StringVar(&fl.otp, "otp", "", "one-time password (with -init, or with -decode)")
	f.StringVar(&fl.decode, "decode", "", `encoded root token to decode with -otp ("-" reads it from stdin)`)
	f.StringVar(&fl.nonce, "nonce", "", "nonce of the generation to provide a share to (default: the one in progress)")
	cmd.MarkFlagsMutuallyExclusive("init", "cancel", "status", "generate-otp", "decode")
	return cmd
}

func (a *app) generateRoot(cmd *cobra.Command, c *apiclient.Client, p *printer, fl generateRootFlags, args []string) error {
	ctx := cmd.Context()
	switch {
	case fl.generateOTP:
		st, err := generateRootStatus(ctx, c)
		if err != nil {
			return err
		}
		n := intValue(st["otp_length"])
		if n <= 0 {
			n = defaultOTPLength
		}
		otp, err := randomBase62(n)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(a.stdout, otp)
		return err
	case fl.cancel:
		if err := c.DoRaw(ctx, http.MethodDelete, "sys/generate-root/attempt", nil, nil, nil); err != nil {
			return fmt.Errorf("canceling root generation: %w", err)
		}
		_, err := fmt.Fprintln(a.stdout, "Success! Root token generation canceled (if it was started)")
		return err
	case fl.init:
		body := map[string]any{}
		if fl.otp != "" {
			body["otp"] = fl.otp
		}
		var st map[string]any
		if err := c.DoRaw(ctx, http.MethodPut, "sys/generate-root/attempt", body, nil, &st); err != nil {
			return fmt.Errorf("starting root generation: %w", err)
		}
		return a.printGenerateRootStatus(p, st)
	case fl.status:
		st, err := generateRootStatus(ctx, c)
		if err != nil {
			return err
		}
		return a.printGenerateRootStatus(p, st)
	}
	return a.generateRootProvide(ctx, c, p, fl.nonce, args)
}

func generateRootStatus(ctx context.Context, c *apiclient.Client) (map[string]any, error) {
	var st map[string]any
	if err := c.DoRaw(ctx, http.MethodGet, "sys/generate-root/attempt", nil, nil, &st); err != nil {
		return nil, fmt.Errorf("reading root generation status: %w", err)
	}
	return st, nil
}

func (a *app) generateRootProvide(ctx context.Context, c *apiclient.Client, p *printer, nonce string, args []string) error {
	if nonce == "" {
		st, err := generateRootStatus(ctx, c)
		if err != nil {
			return err
		}
		if st["started"] != true {
			return errors.New(`no root generation is in progress: start one with "coffer operator generate-root -init"`)
		}
		nonce = str(st["nonce"])
		fmt.Fprintf(a.stderr, "Operation nonce: %s\n", nonce)
	}
	key, err := a.argOrSecret(args, "Unseal Key (will be hidden): ")
	if err != nil {
		return err
	}
	var st map[string]any
	body := map[string]any{"key": key, "nonce": nonce}
	if err := c.DoRaw(ctx, http.MethodPut, "sys/generate-root/update", body, nil, &st); err != nil {
		return fmt.Errorf("providing root generation share: %w", err)
	}
	return a.printGenerateRootStatus(p, st)
}

func (a *app) printGenerateRootStatus(p *printer, st map[string]any) error {
	if p.format != "table" || p.field != "" {
		return p.data(st)
	}
	rows := [][]string{
		{"Nonce", str(st["nonce"])},
		{"Started", str(st["started"])},
		{"Progress", fmt.Sprintf("%s/%s", str(st["progress"]), str(st["required"]))},
		{"Complete", str(st["complete"])},
	}
	switch {
	case str(st["encoded_token"]) != "":
		rows = append(rows, []string{"Encoded Token", str(st["encoded_token"])})
	case str(st["encoded_root_token"]) != "":
		rows = append(rows, []string{"Encoded Root Token", str(st["encoded_root_token"])})
	}
	if otp := str(st["otp"]); otp != "" {
		fmt.Fprintln(a.stderr, "A One-Time-Password has been generated for you and is shown in the OTP field.\n"+
			"You will need this value to decode the resulting root token, so keep it safe.")
		rows = append(rows, []string{"OTP", otp})
	}
	if n := intValue(st["otp_length"]); n != 0 {
		rows = append(rows, []string{"OTP Length", fmt.Sprint(n)})
	}
	return writeTable(p.out, []string{"Key", "Value"}, rows)
}

func (a *app) decodeRoot(p *printer, fl generateRootFlags) error {
	if fl.otp == "" {
		return errors.New("-decode needs the one-time password in -otp")
	}
	encoded := fl.decode
	if encoded == "-" {
		v, err := readSecret(a.stdin, a.stderr, "Encoded token (will be hidden): ")
		if err != nil {
			return err
		}
		encoded = v
	}
	token, err := decodeRootToken(encoded, fl.otp)
	if err != nil {
		return err
	}
	if p.format != "table" {
		return p.structured(map[string]any{"token": token})
	}
	_, err = fmt.Fprintf(a.stdout, "%s\n", token)
	return err
}

// decodeRootToken undoes the server's encoding of a generated root token:
// base64 (padded or not) of the token XORed with the one-time password,
// which must be exactly as long as the token.
func decodeRootToken(encoded, otp string) (string, error) {
	encoded = strings.TrimSpace(encoded)
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(encoded, "="))
	if err != nil {
		return "", fmt.Errorf("decode root token: not base64: %w", err)
	}
	if len(raw) != len(otp) {
		return "", fmt.Errorf("decode root token: encoded token is %d bytes but the one-time password is %d", len(raw), len(otp))
	}
	out := make([]byte, len(raw))
	for i := range raw {
		out[i] = raw[i] ^ otp[i]
	}
	return string(out), nil
}

// randomBase62 returns n random characters from [0-9A-Za-z].
func randomBase62(n int) (string, error) {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	out := make([]byte, 0, n)
	buf := make([]byte, 64)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generate one-time password: %w", err)
		}
		for _, b := range buf {
			// 248 = 4*62: rejecting larger bytes keeps the choice uniform.
			if b < 248 && len(out) < n {
				out = append(out, alphabet[b%62])
			}
		}
	}
	return string(out), nil
}

// intValue reads a decoded JSON number; anything else is 0.
func intValue(v any) int {
	switch x := v.(type) {
	case interface{ Int64() (int64, error) }:
		n, err := x.Int64()
		if err != nil {
			return 0
		}
		return int(n)
	case float64:
		return int(x)
	case int:
		return x
	}
	return 0
}
