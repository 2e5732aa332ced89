package cli

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

const autopilotSetConfigHelp = `Change autopilot's configuration. Only the settings given as flags change.

  -cleanup-dead-servers                  remove servers that have been out of
                                         contact for longer than
                                         -dead-server-last-contact-threshold,
                                         as long as -min-quorum voters remain
  -dead-server-last-contact-threshold    how long a server may be out of
                                         contact before it counts as dead
  -last-contact-threshold                how long a server may be out of
                                         contact before it counts as unhealthy
  -max-trailing-logs                     how many log entries a server may
                                         trail the leader by and stay healthy
  -min-quorum                            voters dead-server cleanup never goes
                                         below (at least 3 to enable cleanup)
  -server-stabilization-time             how long a new server must be healthy
                                         before it is promoted to voter

Durations take seconds (90), a Go duration (1h30m) or days (7d).`

// autopilotSettings are the values of set-config's flags.
type autopilotSettings struct {
	cleanup                                       bool
	deadThreshold, contactThreshold, stabilizeFor durationFlag
	maxTrailing, minQuorum                        uint64
}

func (a *app) autopilotSetConfigCommand() *cobra.Command {
	var s autopilotSettings
	cmd := &cobra.Command{
		Use:   "set-config [flags]",
		Short: "Change autopilot's configuration",
		Long:  autopilotSetConfigHelp,
		Example: `  coffer operator raft autopilot set-config -cleanup-dead-servers=true -min-quorum=3
  coffer operator raft autopilot set-config -dead-server-last-contact-threshold=24h`,
		Args: argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			body := s.changed(cmd)
			if len(body) == 0 {
				return usageError(cmd, "no settings given: pass at least one flag")
			}
			_, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			if _, err := c.Do(cmd.Context(), http.MethodPost, autopilotConfigPath, body, nil); err != nil {
				return fmt.Errorf("updating the autopilot configuration: %w", err)
			}
			_, err = fmt.Fprintln(a.stdout, "Success! Autopilot configuration updated.")
			return err
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&s.cleanup, "cleanup-dead-servers", false, "remove dead servers automatically")
	f.Var(&s.deadThreshold, "dead-server-last-contact-threshold", "time without contact after which a server is dead")
	f.Var(&s.contactThreshold, "last-contact-threshold", "time without contact after which a server is unhealthy")
	f.Uint64Var(&s.maxTrailing, "max-trailing-logs", 0, "log entries a healthy server may trail the leader by")
	f.Uint64Var(&s.minQuorum, "min-quorum", 0, "voters dead-server cleanup never goes below")
	f.Var(&s.stabilizeFor, "server-stabilization-time", "time a new server must be healthy before promotion")
	return cmd
}

// changed returns the settings whose flags were given, under Vault's field
// names (the flag names with '_' for '-').
func (s *autopilotSettings) changed(cmd *cobra.Command) map[string]any {
	body := map[string]any{}
	for name, v := range map[string]any{
		"cleanup-dead-servers":               s.cleanup,
		"dead-server-last-contact-threshold": s.deadThreshold.text,
		"last-contact-threshold":             s.contactThreshold.text,
		"max-trailing-logs":                  s.maxTrailing,
		"min-quorum":                         s.minQuorum,
		"server-stabilization-time":          s.stabilizeFor.text,
	} {
		if cmd.Flags().Changed(name) {
			body[strings.ReplaceAll(name, "-", "_")] = v
		}
	}
	return body
}
