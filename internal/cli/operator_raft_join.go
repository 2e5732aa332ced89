package cli

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

// raftJoinFlags are the files `operator raft join` sends to the node.
type raftJoinFlags struct {
	caCert, clientCert, clientKey string
	retry, nonVoter               bool
}

func (a *app) raftJoinCommand() *cobra.Command {
	var fl raftJoinFlags
	cmd := &cobra.Command{
		Use:   "join [flags] LEADER_API_ADDR",
		Short: "Join the node at COFFER_ADDR to the raft cluster of a leader",
		Long: `Ask the node at COFFER_ADDR (a new node, not yet part of any cluster) to join
the raft cluster whose leader API is at LEADER_API_ADDR.

The node asks the leader for a challenge that only a node holding the
cluster's root key can answer. Unseal the new node afterwards with the
cluster's unseal keys (coffer operator unseal against it), or let its auto
seal do so: it then answers the challenge, receives its cluster certificate
and the data, and becomes a member.

The certificate files are read here and sent to the node: -leader-ca-cert
verifies the leader's API certificate; -leader-client-cert and
-leader-client-key are presented to a leader whose listener requires client
certificates. A leading @ in a file name is ignored, as with Vault.

With -retry the node keeps trying until the leader lets it in. With
-non-voter it joins as a permanent non-voter: it receives the log and serves
reads but never votes or leads, and autopilot never promotes it.`,
		Example: `  coffer operator raft join https://coffer-1.internal:8200
  coffer operator raft join -leader-ca-cert=ca.pem -retry https://10.0.0.1:8200
  coffer operator raft join -non-voter https://coffer-1.internal:8200`,
		Args: argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			return a.raftJoin(cmd, args[0], fl)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&fl.caCert, "leader-ca-cert", "", "PEM file of the CA that signed the leader's API certificate")
	f.StringVar(&fl.clientCert, "leader-client-cert", "", "PEM client certificate to present to the leader")
	f.StringVar(&fl.clientKey, "leader-client-key", "", "PEM private key of -leader-client-cert")
	f.BoolVar(&fl.retry, "retry", false, "keep trying to join until it succeeds")
	f.BoolVar(&fl.nonVoter, "non-voter", false, "join as a permanent non-voter (never votes, never promoted)")
	return cmd
}

func (a *app) raftJoin(cmd *cobra.Command, leader string, fl raftJoinFlags) error {
	if !strings.HasPrefix(leader, "http://") && !strings.HasPrefix(leader, "https://") {
		return usageError(cmd, "leader API address %q must start with http:// or https://", leader)
	}
	if (fl.clientCert == "") != (fl.clientKey == "") {
		return usageError(cmd, "-leader-client-cert and -leader-client-key must be given together")
	}
	body := map[string]any{"leader_api_addr": leader, "retry": fl.retry}
	if fl.nonVoter {
		body["non_voter"] = true
	}
	for _, file := range []struct{ field, path string }{
		{"leader_ca_cert", fl.caCert}, {"leader_client_cert", fl.clientCert}, {"leader_client_key", fl.clientKey},
	} {
		if file.path == "" {
			continue
		}
		data, err := readLimited(strings.TrimPrefix(file.path, "@"))
		if err != nil {
			return fmt.Errorf("%s: %w", file.field, err)
		}
		body[file.field] = string(data)
	}
	p, c, err := a.session(cmd)
	if err != nil {
		return err
	}
	// Vault answers {"joined": true} at the top level, not under "data".
	var out struct {
		Joined *bool `json:"joined"`
	}
	if err := c.DoRaw(cmd.Context(), http.MethodPost, "sys/storage/raft/join", body, nil, &out); err != nil {
		return fmt.Errorf("joining the raft cluster: %w", err)
	}
	if out.Joined == nil {
		return fmt.Errorf("joining the raft cluster: the server did not say whether the node joined")
	}
	if p.format != "table" || p.field != "" {
		return p.data(map[string]any{"joined": *out.Joined})
	}
	joined := *out.Joined
	_, err = fmt.Fprintf(a.stdout, "Joined: %v\n", formatValue(joined))
	return err
}
