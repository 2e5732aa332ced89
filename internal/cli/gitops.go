package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cofferdev/coffer/internal/gitops"
)

// gitopsFlags are the flags shared by the GitOps commands.
type gitopsFlags struct {
	identities []string
	write      bool
	format     string
}

func (f *gitopsFlags) addIdentity(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&f.identities, "identity", "i", nil,
		"identity file: an age identity or an SSH private key, asking on the terminal for a passphrase (repeatable; also $COFFER_AGE_KEY_FILE)")
}

func (f *gitopsFlags) addFormat(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.format, "format", "", "file format: yaml, json, dotenv or ini (default: from the file name)")
}

// keyring builds the keyring from -i files, $COFFER_AGE_KEY_FILE (a list
// of paths) and, when a server address is set, the server's transit API.
func (a *app) keyring(ids []string) (*gitops.Keyring, error) {
	kr := &gitops.Keyring{}
	files := slices.Clone(ids)
	if env := a.getenv("COFFER_AGE_KEY_FILE"); env != "" {
		files = append(files, filepath.SplitList(env)...)
	}
	for _, p := range files {
		loaded, err := gitops.LoadIdentities(p, a.sshPassphrase(p))
		if err != nil {
			return nil, err
		}
		kr.Identities = append(kr.Identities, loaded...)
	}
	if a.getenv("COFFER_ADDR") != "" || a.getenv("VAULT_ADDR") != "" {
		c, err := a.client()
		if err != nil {
			return nil, err
		}
		kr.Transit = gitops.ServerTransit{Client: c}
	}
	return kr, nil
}

// sshPassphrase asks on the terminal for the passphrase of the SSH key in
// path, when the key turns out to be needed; without a terminal on stdin
// there is no one to ask (nil).
func (a *app) sshPassphrase(path string) gitops.Passphrase {
	if !isTerminal(a.stdin) {
		return nil
	}
	fd := int(a.stdin.(*os.File).Fd())
	return func() ([]byte, error) {
		fmt.Fprintf(a.stderr, "Passphrase for SSH key %s (will be hidden): ", path)
		pass, err := term.ReadPassword(fd) // as typed: a passphrase may end in a space
		fmt.Fprintln(a.stderr)
		if err != nil {
			return nil, fmt.Errorf("read the passphrase from the terminal: %w", err)
		}
		return pass, nil
	}
}

// readSealable reads path and splits it by its format.
func readSealable(path, format string) (*gitops.File, error) {
	var f gitops.Format
	var err error
	if format != "" {
		f, err = gitops.ParseFormat(format)
	} else {
		f, err = gitops.FormatFor(path)
	}
	if err != nil {
		return nil, err
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	file, err := gitops.Parse(f, src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return file, nil
}

// rulesFor loads the .coffer.yaml above path and matches path against it.
func rulesFor(path string) ([]gitops.Recipient, gitops.Selector, error) {
	cfgPath, err := gitops.FindConfig(filepath.Dir(path))
	if err != nil {
		return nil, nil, err
	}
	c, err := gitops.LoadConfig(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	_, rs, sel, err := c.Match(path)
	return rs, sel, err
}

func (a *app) keygenCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen -o FILE",
		Short: "Generate an age identity for opening sealed files",
		Long: `Generate an age X25519 identity. The file is written with mode 0600 in age's
format (creation time and public key as comments, then the secret key); the
public key is printed on stderr. Put the public key in .coffer.yaml and give
the file to seal/unseal with -i or $COFFER_AGE_KEY_FILE.`,
		Example: `  coffer keygen -o ~/.config/coffer/key.txt
  export COFFER_AGE_KEY_FILE=~/.config/coffer/key.txt`,
		Args: argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError(cmd, "-o FILE is required")
			}
			data, pub, err := gitops.GenerateIdentity(time.Now().UTC().Format(time.RFC3339))
			if err != nil {
				return err
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("writing identity: %w", err)
			}
			if _, err := f.Write(data); err != nil {
				f.Close()
				return fmt.Errorf("writing identity: %w", err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("writing identity: %w", err)
			}
			fmt.Fprintf(a.stderr, "Public key: %s\n", pub)
			return nil
		}),
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write the identity to (must not exist)")
	return cmd
}

func (a *app) sealCommand() *cobra.Command {
	var fl gitopsFlags
	cmd := &cobra.Command{
		Use:   "seal [-w] FILE...",
		Short: "Encrypt the values of YAML, JSON, .env and INI files",
		Long: `Seal replaces every value of each file with ENC[coffer:v1,...], keeping keys,
comments and layout, for the recipients of the first .coffer.yaml rule that
matches the file's path. Of Kubernetes Secret manifests only data and
stringData are sealed. A file that is already sealed keeps its data key and
recipients: values added in the clear are sealed, sealed values stay as they
are (this needs an identity of the file, -i or $COFFER_AGE_KEY_FILE).`,
		Example: `  coffer seal -w environments/prod-eu/values.yaml
  coffer seal config.json > config.sealed.json`,
		Args: argsBetween(1, -1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 && !fl.write {
				return usageError(cmd, "several files need -w")
			}
			kr, err := a.keyring(fl.identities)
			if err != nil {
				return err
			}
			for _, p := range args {
				if err := a.sealOne(cmd.Context(), kr, p, &fl); err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
			}
			return nil
		}),
	}
	fl.addIdentity(cmd)
	fl.addFormat(cmd)
	cmd.Flags().BoolVarP(&fl.write, "write", "w", false, "write the result back to the file instead of stdout")
	return cmd
}

func (a *app) sealOne(ctx context.Context, kr *gitops.Keyring, path string, fl *gitopsFlags) error {
	f, err := readSealable(path, fl.format)
	if err != nil {
		return err
	}
	rs, sel, err := rulesFor(path)
	if err != nil {
		return err
	}
	var out []byte
	if f.IsSealed() {
		if d := gitops.Diff(f, rs); d.Changed() {
			fmt.Fprintf(a.stderr, "warning: %s: recipients differ from its rule; run 'coffer rekey'\n", path)
		}
		out, err = kr.Reseal(ctx, f, f.Body(), sel)
	} else {
		out, err = kr.Seal(ctx, f.Format(), f.Body(), rs, sel)
	}
	if err != nil {
		return err
	}
	if fl.write {
		return gitops.WriteFile(path, out)
	}
	_, err = a.stdout.Write(out)
	return err
}

func (a *app) unsealCommand() *cobra.Command {
	var fl gitopsFlags
	cmd := &cobra.Command{
		Use:   "unseal [-i IDENTITY]... [-w] FILE",
		Short: "Decrypt a sealed file to stdout (or in place with -w)",
		Long: `Unseal opens a sealed file with an identity (-i, repeatable, or
$COFFER_AGE_KEY_FILE: age identities or SSH private keys) or, for
coffer://transit recipients, through the server at $COFFER_ADDR with
$COFFER_TOKEN, and prints the original file byte for byte.`,
		Example: `  coffer unseal -i key.txt environments/prod-eu/values.yaml
  COFFER_AGE_KEY_FILE=~/.ssh/id_ed25519 coffer unseal app.env`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			plain, err := a.openFile(cmd.Context(), args[0], &fl)
			if err != nil {
				return err
			}
			if fl.write {
				return gitops.WriteFile(args[0], plain)
			}
			_, err = a.stdout.Write(plain)
			return err
		}),
	}
	fl.addIdentity(cmd)
	fl.addFormat(cmd)
	cmd.Flags().BoolVarP(&fl.write, "write", "w", false, "write the plaintext back to the file instead of stdout")
	return cmd
}

// openFile reads and unseals path.
func (a *app) openFile(ctx context.Context, path string, fl *gitopsFlags) ([]byte, error) {
	f, err := readSealable(path, fl.format)
	if err != nil {
		return nil, err
	}
	if !f.IsSealed() {
		return nil, fmt.Errorf("%s: %w", path, gitops.ErrNotSealed)
	}
	kr, err := a.keyring(fl.identities)
	if err != nil {
		return nil, err
	}
	plain, err := kr.Open(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return plain, nil
}

// isNotExist reports a missing file.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// editorCommand returns the editor command line.
func (a *app) editorCommand() string {
	for _, k := range []string{"COFFER_EDITOR", "VISUAL", "EDITOR"} {
		if v := strings.TrimSpace(a.getenv(k)); v != "" {
			return v
		}
	}
	return "vi"
}

// gitopsCommands are the commands for sealed files in git.
func (a *app) gitopsCommands() []*cobra.Command {
	return []*cobra.Command{
		a.keygenCommand(),
		a.sealCommand(),
		a.unsealCommand(),
		a.editCommand(),
		a.execCommand(),
		a.rekeyCommand(),
		a.diffDriverCommand(),
		a.helmCommand(),
	}
}
