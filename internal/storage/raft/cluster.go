package raft

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	hraft "github.com/hashicorp/raft"

	"github.com/cofferdev/coffer/internal/storage/bolt"
)

// Peer is one member of the cluster configuration.
type Peer struct {
	ID      string `json:"node_id"`
	Address string `json:"address"`
	Voter   bool   `json:"voter"`
	Leader  bool   `json:"leader"`
}

// Bootstrap makes this node a one-member cluster, if it has no raft state
// yet. Calling it on a node that already has state is a no-op.
func (b *Backend) Bootstrap() error {
	has, err := hraft.HasExistingState(b.logs, b.wal, b.snaps)
	if err != nil || has {
		return err
	}
	cfg := hraft.Configuration{Servers: []hraft.Server{{
		Suffrage: hraft.Voter, ID: hraft.ServerID(b.cfg.NodeID), Address: b.transport.LocalAddr(),
	}}}
	return b.raft.BootstrapCluster(cfg).Error()
}

// LocalAddr is the cluster address this node advertises.
func (b *Backend) LocalAddr() string { return string(b.transport.LocalAddr()) }

// NodeID is this node's id.
func (b *Backend) NodeID() string { return b.cfg.NodeID }

// AddVoter adds a node to the cluster (leader only). Adding a member again
// with the same address is a no-op.
func (b *Backend) AddVoter(id, addr string) error {
	err := b.raft.AddVoter(hraft.ServerID(id), hraft.ServerAddress(addr), 0, b.timeout).Error()
	return b.leaderErr(err)
}

// RemovePeer removes a node from the cluster (leader only). The others
// then refuse its connections.
func (b *Backend) RemovePeer(id string) error {
	return b.leaderErr(b.raft.RemoveServer(hraft.ServerID(id), 0, b.timeout).Error())
}

// LeadershipTransfer (leader only) hands leadership to the most up-to-date
// other voter and returns once it has taken over.
func (b *Backend) LeadershipTransfer() error {
	err := b.leaderErr(b.raft.LeadershipTransfer().Error())
	if err != nil && !errors.Is(err, ErrNotLeader) {
		return fmt.Errorf("storage: raft: leadership transfer: %w", err)
	}
	return err
}

func (b *Backend) leaderErr(err error) error {
	if errors.Is(err, hraft.ErrNotLeader) || errors.Is(err, hraft.ErrLeadershipLost) {
		_, addr := b.Leader()
		return fmt.Errorf("%w (leader: %q)", ErrNotLeader, addr)
	}
	return err
}

// Peers lists the cluster configuration as this node knows it.
func (b *Backend) Peers() ([]Peer, error) {
	f := b.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	leaderAddr, leaderID := b.raft.LeaderWithID()
	var out []Peer
	for _, s := range f.Configuration().Servers {
		out = append(out, Peer{ID: string(s.ID), Address: string(s.Address), Voter: s.Suffrage == hraft.Voter,
			Leader: s.ID == leaderID && s.Address == leaderAddr})
	}
	return out, nil
}

// Leader returns the current leader's id and address ("" when unknown).
func (b *Backend) Leader() (id, addr string) {
	a, i := b.raft.LeaderWithID()
	return string(i), string(a)
}

// IsLeader reports whether this node is the leader.
func (b *Backend) IsLeader() bool { return b.raft.State() == hraft.Leader }

// LeaderCh delivers true when this node becomes leader and false when it
// stops being leader.
func (b *Backend) LeaderCh() <-chan bool { return b.raft.LeaderCh() }

// WaitForLeader blocks until the cluster has a leader or ctx ends.
func (b *Backend) WaitForLeader(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if id, _ := b.Leader(); id != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// CommitIndex is the highest log index this node knows to be committed;
// AppliedIndex the highest it has applied.
func (b *Backend) CommitIndex() uint64  { return b.raft.CommitIndex() }
func (b *Backend) AppliedIndex() uint64 { return b.raft.AppliedIndex() }

// Term is the raft term this node is in.
func (b *Backend) Term() uint64 { return b.raft.CurrentTerm() }

// lastVisible is the highest index at or below index whose entry the state
// machine processes (a command or a configuration change; raft keeps
// barriers and no-ops to itself), or 0 when it has been compacted away,
// which means a snapshot the state machine already holds covers it. index
// must be committed: committed entries never change, so the answer for the
// index last asked about is kept (readers ask about the same read index
// until a write moves it; each lookup reads the log file).
func (b *Backend) lastVisible(index uint64) uint64 {
	if v := b.visible.Load(); v != nil && v.index == index {
		return v.visible
	}
	for i := index; i > 0; i-- {
		var l hraft.Log
		if err := b.logs.GetLog(i, &l); err != nil {
			return 0
		}
		if l.Type == hraft.LogCommand || l.Type == hraft.LogConfiguration {
			b.visible.Store(&visibleAt{index: index, visible: i})
			return i
		}
	}
	return 0
}

// visibleAt is one answer of lastVisible.
type visibleAt struct{ index, visible uint64 }

// appliedUpTo reports whether the state machine has applied every entry up
// to index that it processes.
func (b *Backend) appliedUpTo(index uint64) bool {
	if b.raft.AppliedIndex() < index {
		return false
	}
	applied := b.fsm.applied.Load()
	return applied >= index || applied >= b.lastVisible(index)
}

// Barrier (leader only) waits until every entry committed before it has
// been applied here, and returns the index that covers them: a follower
// that reaches that index (WaitApplied) has seen every write acknowledged
// before the call.
func (b *Backend) Barrier() (uint64, error) {
	if err := b.leaderErr(b.raft.Barrier(b.timeout).Error()); err != nil {
		return 0, err
	}
	return b.raft.AppliedIndex(), nil
}

// WaitApplied blocks until this node's state machine has applied every
// entry up to index, or ctx ends.
func (b *Backend) WaitApplied(ctx context.Context, index uint64) error {
	for !b.appliedUpTo(index) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("storage: raft: waiting for index %d (applied %d): %w", index, b.raft.AppliedIndex(), ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
	return nil
}

// Stats are the node's write counters.
type Stats struct {
	// Appends is the number of log appends (one fsync each); Entries the
	// log entries they carried. Entries/Appends is writes per fsync.
	Appends, Entries uint64
}

// Stats reports the write counters since Open.
func (b *Backend) Stats() Stats {
	return Stats{Appends: b.logs.appends.Load(), Entries: b.logs.entries.Load()}
}

// SaveSnapshot takes a snapshot now and streams it to w (the state
// machine's database file: ciphertext only).
func (b *Backend) SaveSnapshot(w io.Writer) error {
	f := b.raft.Snapshot()
	if err := f.Error(); err != nil {
		return fmt.Errorf("storage: raft: snapshot: %w", err)
	}
	_, rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("storage: raft: open snapshot: %w", err)
	}
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil {
		return fmt.Errorf("storage: raft: write snapshot: %w", err)
	}
	return nil
}

// RestoreSnapshot (leader only) replaces the whole cluster's state with a
// snapshot written by SaveSnapshot; followers receive it from the leader.
// The snapshot is spooled to a file in the data directory first, so its
// size is known and a short upload fails before anything changes.
func (b *Backend) RestoreSnapshot(r io.Reader) error {
	spool, err := os.CreateTemp(b.cfg.Dir, "restore-*.snap")
	if err != nil {
		return fmt.Errorf("storage: raft: spool snapshot: %w", err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	size, err := io.Copy(spool, r)
	if err != nil {
		return fmt.Errorf("storage: raft: spool snapshot: %w", err)
	}
	applied, err := checkSnapshot(spool, size)
	if err != nil {
		return err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return err
	}
	// Index: raft places the restore above the snapshot's own applied
	// index, so the state machine (which skips indexes it has applied)
	// applies every later write.
	meta := &hraft.SnapshotMeta{Version: hraft.SnapshotVersionMax, Size: size, Index: applied}
	return b.leaderErr(b.raft.Restore(meta, spool, 0))
}

// checkSnapshot refuses a file that is not a bbolt database, before raft
// replaces the cluster's state with it, and returns its applied index.
func checkSnapshot(f *os.File, size int64) (uint64, error) {
	dir, err := os.MkdirTemp(filepath.Dir(f.Name()), "restore-check-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	dst, err := os.Create(filepath.Join(dir, bolt.FileName))
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(dst, io.LimitReader(f, size)); err != nil {
		dst.Close()
		return 0, err
	}
	if err := dst.Close(); err != nil {
		return 0, err
	}
	db, err := bolt.Open(dir, bolt.Options{Timeout: time.Second, CheckAllPages: true})
	if err != nil {
		return 0, fmt.Errorf("storage: raft: not a Coffer raft snapshot: %w", err)
	}
	applied, err := db.AppliedIndex()
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return applied, err
}
