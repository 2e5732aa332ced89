package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// movePollInterval is how often a move's status is asked for.
const movePollInterval = 500 * time.Millisecond

func (a *app) secretsMoveCommand() *cobra.Command {
	return a.moveCommand("secrets engine", func(p string) string { return p },
		"Move a secrets engine to another path",
		`Move the secrets engine at SOURCE to DESTINATION (sys/remount). Its data,
accessor and settings move with it; its leases are revoked first, as in Vault.
Policies that name the old path are not changed.`,
		"  coffer secrets move team-a/ team-b/")
}

func (a *app) authMoveCommand() *cobra.Command {
	return a.moveCommand("auth method", func(p string) string {
		if !strings.HasPrefix(p, "auth/") {
			p = "auth/" + p
		}
		return p
	}, "Move an auth method to another path",
		`Move the auth method at SOURCE to DESTINATION, both under auth/ (sys/remount).
Its roles, users and settings move with it; the tokens it issued are revoked
first, as in Vault. Policies that name the old path are not changed.`,
		"  coffer auth move auth/approle auth/ci-approle")
}

// moveCommand builds "secrets move" and "auth move": start the migration,
// then report its status until it ends.
func (a *app) moveCommand(what string, normalize func(string) string, short, long, example string) *cobra.Command {
	return &cobra.Command{
		Use:     "move SOURCE DESTINATION",
		Short:   short,
		Long:    long,
		Example: example,
		Args:    argsBetween(2, 2),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			from := normalize(ensureSlash(strings.Trim(args[0], "/")))
			to := normalize(ensureSlash(strings.Trim(args[1], "/")))
			c, err := a.client()
			if err != nil {
				return err
			}
			s, err := c.Write(cmd.Context(), "sys/remount", map[string]any{"from": from, "to": to})
			if err != nil {
				return fmt.Errorf("moving: %w", err)
			}
			id, _ := s.Data["migration_id"].(string)
			if id == "" {
				return errors.New("moving: the server answered without a migration ID")
			}
			fmt.Fprintf(a.stdout, "Started moving %s %s to %s, with migration ID %s\n", what, from, to, id)
			if err := a.waitMove(cmd.Context(), id); err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Finished moving %s %s to %s, with migration ID %s\n", what, from, to, id)
			return err
		}),
	}
}

// waitMove polls sys/remount/status/<id> until the migration succeeds
// (nil) or fails, printing a progress line to stderr while it runs.
func (a *app) waitMove(ctx context.Context, id string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	started := time.Now()
	for {
		s, err := c.Read(ctx, "sys/remount/status/"+id, nil)
		if err != nil {
			return fmt.Errorf("status of migration %s: %w", id, err)
		}
		if s == nil {
			return fmt.Errorf("status of migration %s: the active node does not know it (it changed or sealed?)", id)
		}
		info, _ := s.Data["migration_info"].(map[string]any)
		switch status, _ := info["status"].(string); status {
		case "success":
			return nil
		case "failure":
			return fmt.Errorf("migration %s failed; the mount stays at its old path (the server log says why)", id)
		}
		fmt.Fprintf(a.stderr, "still moving (%s)...\n", time.Since(started).Round(time.Second))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(movePollInterval):
		}
	}
}
