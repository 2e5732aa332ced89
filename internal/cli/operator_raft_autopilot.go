package cli

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/apiclient"
)

const (
	autopilotStatePath  = "sys/storage/raft/autopilot/state"
	autopilotConfigPath = "sys/storage/raft/autopilot/configuration"
)

func (a *app) raftAutopilotCommand() *cobra.Command {
	return a.groupCommand("autopilot", "Show the cluster's health and configure autopilot",
		"Autopilot watches the raft cluster from the leader: it promotes new nodes to\nvoters once they have been healthy for a while and removes dead ones.",
		a.autopilotStateCommand(), a.autopilotGetConfigCommand(), a.autopilotSetConfigCommand())
}

func (a *app) autopilotStateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "state",
		Short: "Show the health of the raft cluster and of each server",
		Long: `Show autopilot's view of the raft cluster: whether it is healthy, how many
servers it can lose and keep its quorum (failure tolerance), the leader, the
voters, and for each server its address, status, health, time since its last
contact with the leader and the last log index it holds.`,
		Example: "  coffer operator raft autopilot state\n  coffer operator raft autopilot state -format=json",
		Args:    argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			s, err := c.Do(cmd.Context(), http.MethodGet, autopilotStatePath, nil, nil)
			if err != nil {
				return fmt.Errorf("reading the autopilot state: %w", err)
			}
			if s == nil || s.Data == nil {
				return fmt.Errorf("reading the autopilot state: the server returned no state")
			}
			if p.format != "table" || p.field != "" {
				return p.secret(s)
			}
			return a.printAutopilotState(s)
		}),
	}
}

// printAutopilotState prints the cluster summary and a table of servers.
func (a *app) printAutopilotState(s *apiclient.Secret) error {
	d := s.Data
	voters := ""
	if vs, ok := d["voters"].([]any); ok {
		for i, v := range vs {
			if i > 0 {
				voters += ", "
			}
			voters += formatValue(v)
		}
	}
	summary := [][]string{
		{"Healthy", cell(d["healthy"])},
		{"Failure Tolerance", cell(d["failure_tolerance"])},
		{"Leader", cell(d["leader"])},
		{"Voters", voters},
	}
	if err := writeTable(a.stdout, []string{"Key", "Value"}, summary); err != nil {
		return err
	}
	servers, _ := d["servers"].(map[string]any)
	ids := make([]string, 0, len(servers))
	for id := range servers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	rows := make([][]string, 0, len(ids))
	for _, id := range ids {
		srv, _ := servers[id].(map[string]any)
		rows = append(rows, []string{id, cell(srv["address"]), cell(srv["status"]), cell(srv["healthy"]),
			cell(srv["last_contact"]), cell(srv["last_index"])})
	}
	fmt.Fprintln(a.stdout)
	return writeTable(a.stdout, []string{"Server", "Address", "Status", "Healthy", "Last Contact", "Last Index"}, rows)
}

// cell renders a value for a table; a missing one is empty (n/a).
func cell(v any) string {
	if v == nil {
		return ""
	}
	return formatValue(v)
}

// autopilotFields are autopilot's settings in Vault's names, with the labels
// Vault's CLI prints, in its order.
var autopilotFields = []struct{ name, label string }{
	{"cleanup_dead_servers", "Cleanup Dead Servers"},
	{"last_contact_threshold", "Last Contact Threshold"},
	{"dead_server_last_contact_threshold", "Dead Server Last Contact Threshold"},
	{"server_stabilization_time", "Server Stabilization Time"},
	{"min_quorum", "Min Quorum"},
	{"max_trailing_logs", "Max Trailing Logs"},
}

func (a *app) autopilotGetConfigCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "get-config",
		Short:   "Show autopilot's configuration",
		Long:    "Show autopilot's configuration; set-config describes each setting.",
		Example: "  coffer operator raft autopilot get-config",
		Args:    argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			s, err := c.Do(cmd.Context(), http.MethodGet, autopilotConfigPath, nil, nil)
			if err != nil {
				return fmt.Errorf("reading the autopilot configuration: %w", err)
			}
			if s == nil || s.Data == nil {
				return fmt.Errorf("reading the autopilot configuration: the server returned none")
			}
			if p.format != "table" || p.field != "" {
				return p.secret(s)
			}
			rows := make([][]string, 0, len(autopilotFields))
			for _, f := range autopilotFields {
				rows = append(rows, []string{f.label, cell(s.Data[f.name])})
			}
			return writeTable(a.stdout, []string{"Key", "Value"}, rows)
		}),
	}
}
