package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/gitops"
)

func (a *app) rekeyCommand() *cobra.Command {
	var fl gitopsFlags
	var check, rotate bool
	cmd := &cobra.Command{
		Use:   "rekey [--check] [--rotate-data-key] [PATH...]",
		Short: "Re-wrap sealed files' data keys for their rules' current recipients",
		Long: `Rekey finds every sealed file under PATH (default: the directory holding
.coffer.yaml) and re-wraps its data key for the recipients its rule lists
now: removed recipients lose access, added ones gain it, values and the
lines of unchanged recipients stay as they are. It needs an identity (or
server access) that can open each changed file. Progress and a summary go
to stderr.

With --check nothing is written and no identity is needed: rekey lists the
files whose recipients differ from their rule and exits 1 if there are any,
for CI.

With --rotate-data-key every file also gets a new data key, so every value
gets new ciphertext and a removed recipient's copy of the old data key
opens nothing written from now on. Removing a recipient does not take back
what it could already read: rotate the secrets themselves after offboarding
someone (see docs/gitops.md).`,
		Example: `  coffer rekey
  coffer rekey environments/prod-eu
  coffer rekey --check   # in CI
  coffer rekey --rotate-data-key environments/prod-eu`,
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			return a.rekeyFiles(cmd, args, &fl, check, rotate)
		}),
	}
	fl.addIdentity(cmd)
	cmd.Flags().BoolVar(&check, "check", false, "only report files whose recipients differ from their rule; exit 1 if any")
	cmd.Flags().BoolVar(&rotate, "rotate-data-key", false, "also give every file a new data key (every value changes)")
	return cmd
}

// rekeyFiles runs `coffer rekey`: it finds the rules, then checks or
// rekeys every sealed file under args.
func (a *app) rekeyFiles(cmd *cobra.Command, args []string, fl *gitopsFlags, check, rotate bool) error {
	if check && rotate {
		return usageError(cmd, "--check and --rotate-data-key exclude each other")
	}
	start := "."
	if len(args) > 0 {
		start = args[0]
		if st, err := os.Stat(start); err == nil && !st.IsDir() {
			start = filepath.Dir(start)
		}
	}
	cfgPath, err := gitops.FindConfig(start)
	if err != nil {
		return err
	}
	c, err := gitops.LoadConfig(cfgPath)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		args = []string{c.Root}
	}
	kr := &gitops.Keyring{}
	if !check {
		if kr, err = a.keyring(fl.identities); err != nil {
			return err
		}
	}
	sum, err := gitops.RekeyPaths(cmd.Context(), kr, c, args, gitops.RekeyOptions{
		Check: check, RotateDataKey: rotate, Progress: a.rekeyProgress(check, rotate),
	})
	if err != nil {
		return err
	}
	return a.rekeySummary(sum, check)
}

// rekeyProgress prints one line per changed or failed file, and a counter
// every 50 files so long runs show progress.
func (a *app) rekeyProgress(check, rotate bool) func(i, n int, r gitops.RekeyReport) {
	verb := "rekeyed"
	switch {
	case check:
		verb = "differs"
	case rotate:
		verb = "new data key"
	}
	return func(i, n int, r gitops.RekeyReport) {
		switch {
		case r.Err != nil:
			fmt.Fprintf(a.stderr, "[%d/%d] %s: error: %v\n", i, n, r.Path, r.Err)
		case r.Result.Changed() || rotate:
			fmt.Fprintf(a.stderr, "[%d/%d] %s: %s%s\n", i, n, r.Path, verb, changeList(r.Result))
		case i%50 == 0 || i == n:
			fmt.Fprintf(a.stderr, "[%d/%d] ...\n", i, n)
		}
	}
}

func changeList(r gitops.RekeyResult) string {
	var b strings.Builder
	for _, s := range r.Added {
		b.WriteString(" +" + short(s))
	}
	for _, s := range r.Removed {
		b.WriteString(" -" + short(s))
	}
	return b.String()
}

// short abbreviates long public keys for progress lines.
func short(s string) string {
	if len(s) > 40 && !strings.HasPrefix(s, "coffer://") {
		return s[:20] + "..." + s[len(s)-8:]
	}
	return s
}

func (a *app) rekeySummary(sum gitops.RekeySummary, check bool) error {
	switch {
	case sum.Failed > 0:
		return fmt.Errorf("%d of %d sealed files failed", sum.Failed, sum.Files)
	case check && sum.Changed > 0:
		fmt.Fprintf(a.stderr, "%d of %d sealed files do not match their rules; run 'coffer rekey'\n", sum.Changed, sum.Files)
		return quietExit(exitError)
	case check:
		fmt.Fprintf(a.stderr, "All %d sealed files match their rules.\n", sum.Files)
	default:
		fmt.Fprintf(a.stderr, "Rekeyed %d of %d sealed files.\n", sum.Changed, sum.Files)
	}
	return nil
}

func (a *app) diffDriverCommand() *cobra.Command {
	var fl gitopsFlags
	cmd := &cobra.Command{
		Use:   "diff-driver FILE",
		Short: "Print a sealed file decrypted when possible (git textconv)",
		Long: `Diff-driver prints FILE unsealed when an identity ($COFFER_AGE_KEY_FILE, -i)
or the server can open it, and as it is otherwise, so 'git diff' and
'git log -p' show readable diffs to those who may read them. Set it up with:

  git config diff.coffer.textconv "coffer diff-driver"
  echo '*.yaml diff=coffer' >> .gitattributes`,
		Example: `  git config diff.coffer.textconv "coffer diff-driver"`,
		Args:    argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			src, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			if plain, err := a.openFile(cmd.Context(), args[0], &fl); err == nil {
				src = plain
			}
			_, err = a.stdout.Write(src)
			return err
		}),
	}
	fl.addIdentity(cmd)
	fl.addFormat(cmd)
	return cmd
}
