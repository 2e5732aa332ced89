package cli

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) kvListCommand(kv *kvState) *cobra.Command {
	return &cobra.Command{
		Use:   "list PATH",
		Short: "List the keys under a path",
		Long: `List the secret names under a path. Names ending in "/" are folders holding
more secrets. On KV v2 this lists metadata/<path>.`,
		Example: `  coffer kv list secret/
  coffer kv list -mount=secret apps/`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			p, c, t, err := a.kvSetup(cmd, kv, args[0])
			if err != nil {
				return err
			}
			full := t.api("metadata")
			s, err := c.List(cmd.Context(), full)
			if err != nil {
				return err
			}
			if s == nil || s.Data["keys"] == nil {
				return noValue(full)
			}
			return p.list(s)
		}),
	}
}

func (a *app) kvDeleteCommand(kv *kvState) *cobra.Command {
	var versions []string
	cmd := &cobra.Command{
		Use:   "delete PATH",
		Short: "Delete a secret (KV v2: soft-delete versions, undoable)",
		Long: `Delete a secret. On KV v2 this soft-deletes the latest version, or the
-versions given; "coffer kv undelete" restores them and "coffer kv destroy"
removes their data for good. On v1 the secret is gone.`,
		Example: `  coffer kv delete secret/app
  coffer kv delete -versions=1,2 secret/app`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			vs, err := parseVersions(versions)
			if err != nil {
				return usageError(cmd, "%v", err)
			}
			_, c, t, err := a.kvSetup(cmd, kv, args[0])
			if err != nil {
				return err
			}
			full := t.api("data")
			switch {
			case len(vs) > 0 && !t.v2:
				return errors.New("-versions needs a KV version 2 mount")
			case len(vs) > 0:
				full = t.api("delete")
				err = kvRequest(cmd, c, http.MethodPost, full, map[string]any{"versions": vs})
			default:
				err = kvRequest(cmd, c, http.MethodDelete, full, nil)
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Data deleted (if it existed) at: %s\n", full)
			return err
		}),
	}
	cmd.Flags().StringSliceVar(&versions, "versions", nil, "versions to delete, comma-separated (KV v2)")
	return cmd
}

// kvVersionsCommand builds `kv undelete` and `kv destroy`, which act on
// -versions of a KV v2 secret through <mount>/<verb>/<path>.
func (a *app) kvVersionsCommand(kv *kvState, verb string) *cobra.Command {
	var versions []string
	short, long, method := "Restore soft-deleted versions of a KV v2 secret",
		"Restore the given soft-deleted versions of a KV v2 secret.", http.MethodPost
	if verb == "destroy" {
		short, long, method = "Permanently remove versions of a KV v2 secret",
			"Permanently remove the data of the given versions of a KV v2 secret. Their\nmetadata stays, marked destroyed. This cannot be undone.", http.MethodPut
	}
	cmd := &cobra.Command{
		Use:     verb + " -versions=N[,N...] PATH",
		Short:   short,
		Long:    long,
		Example: fmt.Sprintf("  coffer kv %s -versions=3 secret/app\n  coffer kv %s -mount=secret -versions=1,2 app", verb, verb),
		Args:    argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			vs, err := parseVersions(versions)
			if err != nil {
				return usageError(cmd, "%v", err)
			}
			if len(vs) == 0 {
				return usageError(cmd, "no versions given: use -versions")
			}
			_, c, t, err := a.kvSetup(cmd, kv, args[0])
			if err != nil {
				return err
			}
			if !t.v2 {
				return fmt.Errorf("%s is only supported on KV version 2 mounts", verb)
			}
			full := t.api(verb)
			if err := kvRequest(cmd, c, method, full, map[string]any{"versions": vs}); err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Data written to: %s\n", full)
			return err
		}),
	}
	cmd.Flags().StringSliceVar(&versions, "versions", nil, "versions, comma-separated")
	return cmd
}

// parseVersions turns "1,2" flag values into positive version numbers.
func parseVersions(raw []string) ([]int, error) {
	var out []int
	for _, r := range raw {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		n, err := strconv.Atoi(r)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("invalid version %q: want a positive number", r)
		}
		out = append(out, n)
	}
	return out, nil
}
