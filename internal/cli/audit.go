package cli

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/audit"
)

func (a *app) auditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Work with audit logs",
		Long:  "Work with Coffer's audit logs. Audit sinks are declared in the server's config file.",
		Args:  argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			return usageError(cmd, "missing subcommand (verify)")
		}),
	}
	cmd.AddCommand(a.auditVerifyCommand())
	return cmd
}

func (a *app) auditVerifyCommand() *cobra.Command {
	var pubKey string
	var live bool
	cmd := &cobra.Command{
		Use:   "verify FILE...",
		Short: "Check an audit log's hash chain and checkpoint signatures",
		Long: `Verify audit log files, given in order (oldest rotated file first): every
entry must link to the one before it by seq and prev_hash, every checkpoint
must carry a valid signature by the server's key, and the log must end with
the final checkpoint the server writes when it closes or rotates the file.

The public key is the one sys/audit/public-key serves:

  coffer read -field=public_key sys/audit/public-key

The first entry that was edited, deleted, inserted or reordered, or a tail
cut after a checkpoint, is reported and the exit code is 1. With --live the
log may end in entries after the last checkpoint (a file the server is
still writing); those entries are reported as unsigned.`,
		Example: `  coffer audit verify --public-key "$(coffer read -field=public_key sys/audit/public-key)" \
      /var/log/coffer/audit.log.1 /var/log/coffer/audit.log`,
		Args: argsBetween(1, -1),
		RunE: a.runE(func(cmd *cobra.Command, files []string) error {
			key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(pubKey))
			if err != nil || len(key) != 32 {
				return usageError(cmd, "--public-key must be the base64 Ed25519 key from sys/audit/public-key")
			}
			return a.verifyAudit(audit.VerifyOptions{PublicKey: key, Live: live}, files)
		}),
	}
	cmd.Flags().StringVar(&pubKey, "public-key", "", "base64 Ed25519 checkpoint key (from sys/audit/public-key)")
	cmd.Flags().BoolVar(&live, "live", false, "accept unsigned entries after the last checkpoint")
	return cmd
}

func (a *app) verifyAudit(opts audit.VerifyOptions, files []string) error {
	v := audit.NewVerifier(opts)
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = v.Add(name, f)
		f.Close()
		if err != nil {
			return auditFailure(err)
		}
	}
	sum, err := v.Finish()
	if err != nil {
		return auditFailure(err)
	}
	start := fmt.Sprintf("seq %d (genesis)", sum.FirstSeq)
	if !sum.Genesis {
		start = fmt.Sprintf("seq %d (earlier entries are in files not given)", sum.FirstSeq)
	}
	fmt.Fprintf(a.stdout, "OK: %d entries in %d file(s), seq %d to %d, %d checkpoints, chain starts at %s\n",
		sum.Entries, sum.Files, sum.FirstSeq, sum.LastSeq, sum.Checkpoints, start)
	if sum.Unsigned > 0 {
		fmt.Fprintf(a.stdout, "warning: %d entries after checkpoint seq %d are not signed yet\n", sum.Unsigned, sum.LastCheckpoint)
	}
	return nil
}

func auditFailure(err error) error {
	if errors.Is(err, audit.ErrTampered) {
		return fmt.Errorf("audit log verification failed: %w", err)
	}
	return err
}
