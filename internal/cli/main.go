// Package cli implements the coffer command line: the server, operator and
// Vault-compatible client commands.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/version"
)

// Exit codes, as the Vault CLI uses them.
const (
	exitOK    = 0
	exitError = 1
	// exitUsage is for bad flags or arguments, and for "no value found".
	exitUsage = 2
)

// app carries one invocation's inputs, outputs and global flag values.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	flags          globalFlags
	// ran is set when a command's own code starts; an error before that
	// came from parsing and is a usage error.
	ran bool
}

// Main runs the coffer command line with args (without the program name)
// and returns the process exit code: 0 on success, 1 on errors, 2 on usage
// errors (and where Vault uses 2, such as "no value found" or a sealed
// server in `status`).
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return run(ctx, args, stdin, stdout, stderr, os.Getenv)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	root := a.rootCommand()
	root.SetArgs(normalizeArgs(args))
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	return a.exitCode(cmd, err)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "coffer",
		Short: "Coffer is a Vault-compatible secrets server and its command line",
		Long: `Coffer is a Vault-compatible secrets server. This one binary runs the server
and talks to it with the Vault CLI's commands and flags.

Flags take one or two dashes: -format=json and --format=json are the same.
The client reads COFFER_ADDR, COFFER_TOKEN, COFFER_CACERT, COFFER_SKIP_VERIFY
and COFFER_FORMAT, falling back to their VAULT_ equivalents.`,
		Example: `  coffer server -dev
  export COFFER_ADDR=http://127.0.0.1:8200
  coffer kv put secret/app password=hunter2`,
		Version:           version.Version,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: true},
	}
	root.SetVersionTemplate(versionLine() + "\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitErr{code: exitUsage, err: err, usage: c.CommandPath()}
	})
	root.AddCommand(
		a.serverCommand(),
		a.statusCommand(),
		a.versionCommand(),
		a.operatorCommand(),
		a.loginCommand(),
		a.tokenCommand(),
		a.kvCommand(),
		a.policyCommand(),
		a.secretsCommand(),
		a.authCommand(),
		a.auditCommand(),
		a.transitCommand(),
	)
	root.AddCommand(a.genericCommands()...)
	root.AddCommand(a.benchCommand())
	root.AddCommand(a.leaseCommand())
	root.AddCommand(a.canICommand())
	root.AddCommand(a.gitopsCommands()...)
	return root
}

// exitErr carries an exit code. A nil err exits quietly.
type exitErr struct {
	code int
	err  error
	// usage, when set, is the command path whose --help to suggest.
	usage string
}

func (e *exitErr) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}

func (e *exitErr) Unwrap() error { return e.err }

// usageError reports bad arguments (exit code 2).
func usageError(cmd *cobra.Command, format string, args ...any) error {
	return &exitErr{code: exitUsage, err: fmt.Errorf(format, args...), usage: cmd.CommandPath()}
}

// quietExit ends the command with code and no message.
func quietExit(code int) error { return &exitErr{code: code} }

// noValue is Vault's "No value found at PATH", exit code 2.
func noValue(path string) error {
	return &exitErr{code: exitUsage, err: fmt.Errorf("no value found at %s", path)}
}

// exitCode prints err as one line on stderr and maps it to an exit code.
func (a *app) exitCode(cmd *cobra.Command, err error) int {
	if err == nil {
		return exitOK
	}
	code, usage := exitError, ""
	var ee *exitErr
	switch {
	case errors.As(err, &ee):
		code, usage = ee.code, ee.usage
		if ee.err == nil {
			return code
		}
	case !a.ran:
		// Cobra rejected the command line before any command ran.
		code = exitUsage
		if cmd != nil {
			usage = cmd.CommandPath()
		}
	}
	fmt.Fprintf(a.stderr, "Error: %v\n", err)
	if usage != "" {
		fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", usage)
	}
	return code
}

// runE marks the start of a command's own code and adapts fn to cobra.
func (a *app) runE(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.ran = true
		return fn(cmd, args)
	}
}

// groupCommand is a command that only holds subcommands. Run bare, it shows
// its help; with an unknown subcommand, it is a usage error.
func (a *app) groupCommand(use, short, long string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use + " <subcommand>",
		Short: short,
		Long:  long,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(cmd, "unknown subcommand %q for %q", args[0], cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(subs...)
	return cmd
}

// argsBetween validates the number of positional arguments.
func argsBetween(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < min:
			return usageError(cmd, "not enough arguments (expected %s, got %d)", argRange(min, max), len(args))
		case max >= 0 && len(args) > max:
			return usageError(cmd, "too many arguments (expected %s, got %d)", argRange(min, max), len(args))
		}
		return nil
	}
}

func argRange(min, max int) string {
	switch {
	case max < 0:
		return fmt.Sprintf("at least %d", min)
	case min == max:
		return fmt.Sprintf("%d", min)
	default:
		return fmt.Sprintf("%d-%d", min, max)
	}
}
