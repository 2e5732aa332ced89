package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/gitops"
)

func (a *app) editCommand() *cobra.Command {
	var fl gitopsFlags
	cmd := &cobra.Command{
		Use:   "edit FILE",
		Short: "Edit a sealed file in $EDITOR and re-seal the changed values",
		Long: `Edit unseals FILE into a 0600 file in a private temporary directory, runs
$COFFER_EDITOR, $VISUAL or $EDITOR (default vi) on it, and seals the result
with the file's data key and recipients. Values that did not change keep
their exact ciphertext, so the git diff shows only what you changed. The
temporary directory is removed afterwards. A file that does not exist yet
is created, sealed for the recipients of its .coffer.yaml rule.`,
		Example: `  EDITOR="code --wait" coffer edit environments/prod-eu/values.yaml`,
		Args:    argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			return a.edit(cmd.Context(), args[0], &fl)
		}),
	}
	fl.addIdentity(cmd)
	fl.addFormat(cmd)
	return cmd
}

func (a *app) edit(ctx context.Context, path string, fl *gitopsFlags) error {
	var f *gitops.File
	var plain []byte
	kr, err := a.keyring(fl.identities)
	if err != nil {
		return err
	}
	switch f, err = readSealable(path, fl.format); {
	case err == nil && f.IsSealed():
		if plain, err = kr.Open(ctx, f); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	case err == nil:
		plain = f.Body()
	case !isNotExist(err):
		return err
	}
	edited, err := a.runEditor(ctx, filepath.Base(path), plain)
	if err != nil {
		return err
	}
	if f != nil && bytes.Equal(edited, plain) {
		fmt.Fprintln(a.stderr, "No changes.")
		return nil
	}
	rs, sel, err := rulesFor(path)
	if err != nil {
		return err
	}
	var out []byte
	if f != nil && f.IsSealed() {
		out, err = kr.Reseal(ctx, f, edited, sel)
	} else {
		format, ferr := editFormat(path, fl.format)
		if ferr != nil {
			return ferr
		}
		out, err = kr.Seal(ctx, format, edited, rs, sel)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return gitops.WriteFile(path, out)
}

func editFormat(path, flag string) (gitops.Format, error) {
	if flag != "" {
		return gitops.ParseFormat(flag)
	}
	return gitops.FormatFor(path)
}

// runEditor writes content to a 0600 file named base in a new 0700
// directory, runs the editor on it and returns what it left there. The
// directory is removed before returning.
func (a *app) runEditor(ctx context.Context, base string, content []byte) ([]byte, error) {
	dir, err := os.MkdirTemp("", "coffer-edit-")
	if err != nil {
		return nil, fmt.Errorf("edit: %w", err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, base)
	if err := os.WriteFile(tmp, content, 0o600); err != nil {
		return nil, fmt.Errorf("edit: %w", err)
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", a.editorCommand()+` "$1"`, "coffer-editor", tmp)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = a.stdinReader(), a.stdout, a.stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("editor: %w", err)
	}
	out, err := os.ReadFile(tmp)
	if err != nil {
		return nil, fmt.Errorf("edit: %w", err)
	}
	return out, nil
}

// stdinReader is the invocation's stdin for child processes (nil, meaning
// /dev/null, when there is none).
func (a *app) stdinReader() io.Reader {
	if a.stdin == nil {
		return nil
	}
	return a.stdin
}
