package cli

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) leaseCommand() *cobra.Command {
	return a.addAPIFlags(a.groupCommand("lease", "Look up, renew and revoke leases",
		"Commands for the leases of dynamic secrets: lookup, renew and revoke.",
		a.leaseLookupCommand(),
		a.leaseRenewCommand(),
		a.leaseRevokeCommand(),
	))
}

func (a *app) leaseLookupCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "lookup LEASE_ID",
		Short:   "Print a lease's issue time, expiry and TTL",
		Long:    `Print the metadata of a lease: issue and expire time, last renewal, renewable and TTL.`,
		Example: `  coffer lease lookup database/creds/readonly/2f6a614c...`,
		Args:    argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			s, err := c.Do(cmd.Context(), http.MethodPut, "sys/leases/lookup", map[string]any{"lease_id": args[0]}, nil)
			if err != nil {
				return fmt.Errorf("looking up lease: %w", err)
			}
			return p.secret(s)
		}),
	}
}

func (a *app) leaseRenewCommand() *cobra.Command {
	var increment durationFlag
	cmd := &cobra.Command{
		Use:   "renew LEASE_ID",
		Short: "Extend a lease",
		Long: `Renew a lease, asking for -increment more time from now (default: the
engine's default TTL). The lease never outlives its maximum TTL.`,
		Example: `  coffer lease renew database/creds/readonly/2f6a614c...
  coffer lease renew -increment=1h database/creds/readonly/2f6a614c...`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			body := map[string]any{"lease_id": args[0]}
			if increment.text != "" {
				body["increment"] = increment.text
			}
			s, err := c.Do(cmd.Context(), http.MethodPut, "sys/leases/renew", body, nil)
			if err != nil {
				return fmt.Errorf("renewing lease: %w", err)
			}
			return p.secret(s)
		}),
	}
	cmd.Flags().Var(&increment, "increment", "requested extension from now, e.g. 1h")
	return cmd
}

func (a *app) leaseRevokeCommand() *cobra.Command {
	var prefix, force, sync bool
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a lease, or every lease under a prefix",
		Long: `Revoke a lease: its engine deletes the credentials. -prefix revokes every
lease whose id starts with ID (sudo); -force with -prefix drops leases even
when their engine fails to revoke them (sudo; the credentials may survive).
Without -sync a single revocation is queued and done in the background.`,
		Example: `  coffer lease revoke database/creds/readonly/2f6a614c...
  coffer lease revoke -prefix database/creds/readonly
  coffer lease revoke -prefix -force database/`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			if force && !prefix {
				return usageError(cmd, "-force requires -prefix")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			id := strings.TrimPrefix(args[0], "/")
			path, body := "sys/leases/revoke", map[string]any{"lease_id": id, "sync": sync}
			switch {
			case force:
				path, body = "sys/leases/revoke-force/"+id, nil
			case prefix:
				path, body = "sys/leases/revoke-prefix/"+id, map[string]any{"sync": sync}
			}
			if _, err := c.Do(cmd.Context(), http.MethodPut, path, body, nil); err != nil {
				return fmt.Errorf("revoking lease: %w", err)
			}
			msg := "Success! Revoked lease: " + id
			switch {
			case prefix:
				msg = "Success! Revoked any leases with prefix: " + id
			case !sync:
				msg = "All revocation operations queued successfully!"
			}
			_, err = fmt.Fprintln(a.stdout, msg)
			return err
		}),
	}
	cmd.Flags().BoolVar(&prefix, "prefix", false, "treat ID as a prefix and revoke every lease under it")
	cmd.Flags().BoolVar(&force, "force", false, "with -prefix, drop leases whose revocation fails")
	cmd.Flags().BoolVar(&sync, "sync", false, "wait for the revocation to finish")
	return cmd
}
