package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/gitops"
)

func (a *app) execCommand() *cobra.Command {
	var fl gitopsFlags
	var envFiles []string
	cmd := &cobra.Command{
		Use:   "exec --env-file FILE -- COMMAND [ARG...]",
		Short: "Run a command with a sealed .env file's values in its environment",
		Long: `Exec unseals one or more .env files in memory and runs COMMAND with their
variables added to the environment. The values never touch disk and are
not printed. The exit code is the command's.`,
		Example: `  coffer exec --env-file environments/prod-eu/app.env -- ./migrate up
  coffer exec -i key.txt --env-file .env -- sh -c 'echo "$DB_USER"'`,
		Args: argsBetween(1, -1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			if len(envFiles) == 0 {
				return usageError(cmd, "--env-file is required")
			}
			var env []string
			for _, p := range envFiles {
				vars, err := a.openEnv(cmd.Context(), p, &fl)
				if err != nil {
					return err
				}
				env = append(env, vars...)
			}
			child := exec.CommandContext(cmd.Context(), args[0], args[1:]...)
			child.Env = append(os.Environ(), env...)
			return a.runChild(child, nil)
		}),
	}
	fl.addIdentity(cmd)
	cmd.Flags().StringArrayVar(&envFiles, "env-file", nil, "sealed .env file (repeatable; later files win)")
	return cmd
}

func (a *app) openEnv(ctx context.Context, path string, fl *gitopsFlags) ([]string, error) {
	fl.format = gitops.Dotenv.String()
	plain, err := a.openFile(ctx, path, fl)
	if err != nil {
		return nil, err
	}
	vars, err := gitops.ParseEnv(plain)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vars, nil
}

// runChild runs a child process on the invocation's stdio and passes its
// exit code on. started, if not nil, runs once the child has started.
func (a *app) runChild(child *exec.Cmd, started func()) error {
	child.Stdin, child.Stdout, child.Stderr = a.stdinReader(), a.stdout, a.stderr
	err := child.Start()
	if err == nil {
		if started != nil {
			started()
		}
		err = child.Wait()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return quietExit(ee.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("running %s: %w", child.Path, err)
	}
	return nil
}

func (a *app) helmCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "helm template|install|upgrade [HELM ARGS...] -f VALUES...",
		Short: "Run helm with sealed values files decrypted in memory",
		Long: `Helm runs helm (or $COFFER_HELM) with its arguments unchanged, except that
each sealed values file given with -f or --values is unsealed in memory and
passed to helm as /dev/fd/N, a pipe: no plaintext is written to disk.
Identities come from $COFFER_AGE_KEY_FILE; coffer:// recipients use the
server at $COFFER_ADDR.`,
		Example: `  coffer helm upgrade --install web ./chart -f values.yaml -f environments/prod-eu/secrets.yaml
  coffer helm template web ./chart -f secrets.yaml`,
		DisableFlagParsing: true,
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
				return cmd.Help()
			}
			switch args[0] {
			case "template", "install", "upgrade":
			default:
				return usageError(cmd, "unsupported helm command %q (want template, install or upgrade)", args[0])
			}
			return a.runHelm(cmd.Context(), args)
		}),
	}
}

func (a *app) runHelm(ctx context.Context, args []string) error {
	helm := a.getenv("COFFER_HELM")
	if helm == "" {
		helm = "helm"
	}
	child := exec.CommandContext(ctx, helm)
	var feeds []pipeFeed
	defer func() {
		for _, f := range feeds {
			f.r.Close()
			f.w.Close()
		}
	}()
	out := []string{helm}
	for i := 0; i < len(args); i++ {
		flag, file, ok := valuesArg(args[i])
		if ok && file == "" && i+1 < len(args) {
			i++
			file = args[i]
		}
		if !ok || file == "" {
			out = append(out, args[i])
			continue
		}
		ref, err := a.helmValues(ctx, child, file, &feeds)
		if err != nil {
			return err
		}
		out = append(out, flag+"="+ref)
	}
	child.Args = out
	return a.runChild(child, func() {
		for _, f := range feeds {
			f.r.Close() // the child holds its own copy now
			go func() {
				// a write error means helm exited without reading all
				_, _ = f.w.Write(f.data)
				f.w.Close()
			}()
		}
		feeds = nil
	})
}

// pipeFeed is a pipe whose read end goes to the child and whose write end
// is fed with data once the child has started.
type pipeFeed struct {
	r, w *os.File
	data []byte
}

// valuesArg recognises -f, --values, -f=X, --values=X and -fX.
func valuesArg(arg string) (flag, file string, ok bool) {
	for _, f := range []string{"--values", "-f"} {
		if arg == f {
			return f, "", true
		}
		if v, found := strings.CutPrefix(arg, f+"="); found {
			return f, v, true
		}
	}
	if v, found := strings.CutPrefix(arg, "-f"); found && !strings.HasPrefix(arg, "--") {
		return "-f", v, true
	}
	return "", "", false
}

// helmValues returns what to pass helm for a values file: the file itself
// when not sealed, else /dev/fd/N of a pipe to be fed with the plaintext.
func (a *app) helmValues(ctx context.Context, child *exec.Cmd, file string, feeds *[]pipeFeed) (string, error) {
	f, err := readSealable(file, "")
	if err != nil || !f.IsSealed() {
		return file, nil // not ours to open: helm reads it (and reports errors) itself
	}
	plain, err := a.openFile(ctx, file, &gitopsFlags{})
	if err != nil {
		return "", err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return "", fmt.Errorf("helm: %w", err)
	}
	child.ExtraFiles = append(child.ExtraFiles, r)
	*feeds = append(*feeds, pipeFeed{r: r, w: w, data: plain})
	// ExtraFiles[i] is file descriptor 3+i in the child.
	return "/dev/fd/" + strconv.Itoa(2+len(child.ExtraFiles)), nil
}
