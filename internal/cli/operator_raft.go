package cli

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/storage/raft"
)

func (a *app) operatorRaftCommand() *cobra.Command {
	return a.groupCommand("raft", "Operate raft storage: peers, joining, snapshots, autopilot, quorum recovery",
		"Commands for raft storage: list, join and remove peers, save and restore\nsnapshots, watch and configure autopilot, and recover a node whose cluster\nlost its quorum for good.",
		a.raftListPeersCommand(),
		a.raftJoinCommand(),
		a.raftRemovePeerCommand(),
		a.groupCommand("snapshot", "Save or restore a snapshot of raft storage",
			"Save a snapshot of raft storage to a file, or restore one. Snapshots hold\nciphertext only.",
			a.raftSnapshotSaveCommand(), a.raftSnapshotRestoreCommand()),
		a.raftRecoverCommand(),
		a.raftAutopilotCommand(),
	)
}

func (a *app) raftListPeersCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list-peers",
		Short:   "List the raft cluster's members",
		Example: "  coffer operator raft list-peers\n  coffer operator raft list-peers -format=json",
		Args:    argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			p, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			s, err := c.Do(cmd.Context(), http.MethodGet, "sys/storage/raft/configuration", nil, nil)
			if err != nil {
				return fmt.Errorf("listing raft peers: %w", err)
			}
			if p.format != "table" || s == nil {
				return p.secret(s)
			}
			conf, _ := s.Data["config"].(map[string]any)
			servers, _ := conf["servers"].([]any)
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 4, ' ', 0)
			fmt.Fprintln(tw, "Node\tAddress\tState\tVoter")
			fmt.Fprintln(tw, "----\t-------\t-----\t-----")
			for _, raw := range servers {
				srv, _ := raw.(map[string]any)
				state := "follower"
				if srv["leader"] == true {
					state = "leader"
				}
				fmt.Fprintf(tw, "%v\t%v\t%s\t%v\n", srv["node_id"], srv["address"], state, srv["voter"])
			}
			return tw.Flush()
		}),
	}
}

func (a *app) raftRemovePeerCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "remove-peer ID",
		Short:   "Remove a node from the raft cluster",
		Example: "  coffer operator raft remove-peer node-3",
		Args:    argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			_, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			body := map[string]any{"server_id": args[0]}
			if _, err := c.Do(cmd.Context(), http.MethodPost, "sys/storage/raft/remove-peer", body, nil); err != nil {
				return fmt.Errorf("removing peer %s: %w", args[0], err)
			}
			_, err = fmt.Fprintln(a.stdout, "Peer removed successfully!")
			return err
		}),
	}
}

func (a *app) raftSnapshotSaveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "save FILE",
		Short: "Save a snapshot of raft storage to FILE",
		Long: `Take a snapshot of raft storage now and write it to FILE (created with mode
0600; written to a temporary file first and renamed, so FILE is never half
written). The snapshot holds ciphertext only; restoring it needs the unseal
keys of this cluster.`,
		Example: "  coffer operator raft snapshot save backup.snap",
		Args:    argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			_, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			body, err := c.Stream(cmd.Context(), http.MethodGet, "sys/storage/raft/snapshot", nil)
			if err != nil {
				return fmt.Errorf("saving snapshot: %w", err)
			}
			defer body.Close()
			n, err := writeFileAtomic(args[0], &progressReader{r: body, w: a.stderr, verb: "received"})
			if err != nil {
				return fmt.Errorf("saving snapshot: %w", err)
			}
			_, err = fmt.Fprintf(a.stdout, "Snapshot saved to %s: %d bytes streamed\n", args[0], n)
			return err
		}),
	}
}

func (a *app) raftSnapshotRestoreCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "restore [-force] FILE",
		Short: "Replace all data with a snapshot from FILE",
		Long: `Restore a snapshot saved with "snapshot save": every secret, policy, token and
key of the cluster is replaced with the snapshot's. The server then seals
itself; unseal it with the keys of the cluster the snapshot came from.

Without -force only a snapshot of this same cluster is accepted; -force
restores another cluster's (disaster recovery into a fresh server).`,
		Example: "  coffer operator raft snapshot restore backup.snap\n  coffer operator raft snapshot restore -force other-cluster.snap",
		Args:    argsBetween(1, 1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			_, c, err := a.session(cmd)
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			path := "sys/storage/raft/snapshot"
			if force {
				path = "sys/storage/raft/snapshot-force"
			}
			pr := &progressReader{r: f, w: a.stderr, verb: "sent"}
			body, err := c.Stream(cmd.Context(), http.MethodPost, path, pr)
			if err != nil {
				return fmt.Errorf("restoring snapshot: %w", err)
			}
			body.Close()
			_, err = fmt.Fprintf(a.stdout, "Snapshot restored: %d bytes streamed.\n"+
				"The server is now sealed: unseal it with the keys of the cluster the snapshot came from.\n", pr.n)
			return err
		}),
	}
	cmd.Flags().BoolVar(&force, "force", false, "restore a snapshot of another cluster")
	return cmd
}

// progressStep is how often streaming progress is reported.
const progressStep = 8 << 20

// progressReader counts the bytes read through it and reports every
// progressStep on w.
type progressReader struct {
	r    io.Reader
	w    io.Writer
	verb string
	n    int64
	next int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.n >= p.next+progressStep {
		p.next = p.n - p.n%progressStep
		fmt.Fprintf(p.w, "%d MiB %s\n", p.n>>20, p.verb)
	}
	return n, err
}

// writeFileAtomic writes r to a temporary file next to path, syncs it and
// renames it over path.
func writeFileAtomic(path string, r io.Reader) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, r)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	return n, os.Rename(tmp.Name(), path)
}

func (a *app) raftRecoverCommand() *cobra.Command {
	var dir, nodeID, addr string
	var yes bool
	cmd := &cobra.Command{
		Use:   "recover -path DIR -node-id ID [-address A] [-yes]",
		Short: "Make a stopped node the only member of its cluster (lost quorum)",
		Long: `Recover from a lost quorum, offline: on a STOPPED node's raft data directory,
rewrite the cluster configuration so that this node is the only voter. Started
again, it elects itself and serves every entry it holds; other nodes then join
it afresh. Entries the lost nodes had and this one did not are gone, and
entries this node had that were never committed become committed.

The command prints the configuration it found and the one it will write, and
asks for confirmation unless -yes is given.`,
		Example: "  coffer operator raft recover -path /var/lib/coffer/raft -node-id node-1",
		Args:    argsBetween(0, 0),
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			if dir == "" || nodeID == "" {
				return usageError(cmd, "-path and -node-id are required")
			}
			return a.raftRecover(dir, nodeID, addr, yes)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&dir, "path", "", "the stopped node's raft data directory (storage \"raft\" path)")
	f.StringVar(&nodeID, "node-id", "", "this node's id")
	f.StringVar(&addr, "address", "", "this node's cluster address (default: the one in the stored configuration)")
	f.BoolVar(&yes, "yes", false, "do not ask for confirmation")
	return cmd
}

func (a *app) raftRecover(dir, nodeID, addr string, yes bool) error {
	peers, err := raft.ReadConfiguration(dir)
	if err != nil {
		return fmt.Errorf("reading the configuration: %w", err)
	}
	fmt.Fprintf(a.stdout, "Current configuration in %s:\n", dir)
	for _, p := range peers {
		fmt.Fprintf(a.stdout, "  %s  %s  voter=%v\n", p.ID, p.Address, p.Voter)
		if addr == "" && p.ID == nodeID {
			addr = p.Address
		}
	}
	if addr == "" {
		return fmt.Errorf("node %q is not in the configuration: give its cluster address with -address", nodeID)
	}
	fmt.Fprintf(a.stdout, "New configuration:\n  %s  %s  voter=true\n", nodeID, addr)
	if !yes {
		fmt.Fprint(a.stdout, "Rewrite the configuration? Other members are dropped for good. [y/N]: ")
		line := ""
		if a.stdin != nil {
			line, _ = bufio.NewReader(io.LimitReader(a.stdin, 1024)).ReadString('\n')
		}
		if ans := strings.ToLower(strings.TrimSpace(line)); ans != "y" && ans != "yes" {
			fmt.Fprintln(a.stdout, "Aborted; nothing changed.")
			return quietExit(exitError)
		}
	}
	if err := raft.Recover(dir, nodeID, addr); err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "Success! %s is now the only voter; start it to elect itself.\n", nodeID)
	return err
}
