package cli

import (
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/version"
)

func versionLine() string {
	return fmt.Sprintf("Coffer v%s (Vault API v%s)", version.Version, version.VaultAPIVersion)
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print Coffer's version and the Vault API version it matches",
		Long:    "Print Coffer's own version and the Vault API version whose behaviour it matches.",
		Example: "  coffer version",
		Args:    argsBetween(0, 0),
		RunE: a.runE(func(_ *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(a.stdout, versionLine())
			return err
		}),
	}
}

func (a *app) statusCommand() *cobra.Command {
	return a.addAPIFlags(&cobra.Command{
		Use:   "status",
		Short: "Print the seal status of the server",
		Long: `Print the seal and HA status of the server.

The exit code is 0 when the server is unsealed, 2 when it is sealed and 1 on
an error, as with Vault, so scripts can wait for a server:

  until coffer status >/dev/null; do sleep 0.1; done`,
		Example: `  coffer status
  coffer status -format=json`,
		Args: argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			var st map[string]any
			if err := c.DoRaw(cmd.Context(), http.MethodGet, "sys/seal-status", nil, nil, &st); err != nil {
				return fmt.Errorf("checking seal status: %w", err)
			}
			var leader map[string]any
			if st["sealed"] != true {
				// Leader information is optional: a server without HA may not
				// serve it, which does not make the status an error.
				_ = c.DoRaw(cmd.Context(), http.MethodGet, "sys/leader", nil, nil, &leader)
			}
			if err := printSealStatus(p, st, leader); err != nil {
				return err
			}
			if st["sealed"] == true {
				return quietExit(exitUsage)
			}
			return nil
		}),
	})
}

// printSealStatus prints sys/seal-status (plus sys/leader's HA fields) the
// way Vault's status and unseal commands do.
func printSealStatus(p *printer, st, leader map[string]any) error {
	ha := leader["ha_enabled"] == true
	if p.format != "table" || p.field != "" {
		merged := map[string]any{}
		for k, v := range st {
			merged[k] = v
		}
		merged["ha_enabled"] = ha
		if ha {
			for _, k := range []string{"is_self", "leader_address", "leader_cluster_address", "active_time"} {
				if v, ok := leader[k]; ok {
					merged[k] = v
				}
			}
		}
		return p.data(merged)
	}
	sealed := st["sealed"] == true
	rows := [][]string{
		{"Seal Type", str(st["type"])},
		{"Initialized", str(st["initialized"])},
		{"Sealed", str(st["sealed"])},
		{"Total Shares", str(st["n"])},
		{"Threshold", str(st["t"])},
	}
	if sealed {
		rows = append(rows,
			[]string{"Unseal Progress", fmt.Sprintf("%s/%s", str(st["progress"]), str(st["t"]))},
			[]string{"Unseal Nonce", str(st["nonce"])})
	}
	rows = append(rows,
		[]string{"Version", str(st["version"])},
		[]string{"Build Date", str(st["build_date"])},
		[]string{"Storage Type", str(st["storage_type"])})
	if st["cluster_name"] != nil && st["cluster_id"] != nil {
		rows = append(rows, []string{"Cluster Name", str(st["cluster_name"])}, []string{"Cluster ID", str(st["cluster_id"])})
	}
	rows = append(rows, []string{"HA Enabled", fmt.Sprint(ha)})
	if ha && !sealed {
		mode := "standby"
		if leader["is_self"] == true {
			mode = "active"
		}
		rows = append(rows, []string{"HA Cluster", str(leader["leader_cluster_address"])}, []string{"HA Mode", mode})
		if mode == "standby" {
			rows = append(rows, []string{"Active Node Address", str(leader["leader_address"])})
		}
	}
	return writeTable(p.out, []string{"Key", "Value"}, rows)
}

// str formats an optional value; a missing one prints as n/a.
func str(v any) string {
	if v == nil {
		return ""
	}
	return formatValue(v)
}
