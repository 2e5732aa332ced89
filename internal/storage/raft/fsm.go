package raft

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	hraft "github.com/hashicorp/raft"

	"github.com/cofferdev/coffer/internal/storage/bolt"
)

// fsm is the replicated state machine: a bbolt file (through
// internal/storage/bolt) that holds every key and the last applied log
// index, updated in the same transaction. It never sees plaintext: the
// barrier above encrypts values and key names.
type fsm struct {
	dir string
	// mu guards db: reads and applies hold it for reading, Restore swaps
	// the file under the write lock.
	mu sync.RWMutex
	db *bolt.Backend
	// applied is the highest log index the state machine has processed
	// (commands and configuration entries). raft's own applied index runs
	// ahead of it: raft counts an entry once it is handed to the state
	// machine, not once it is applied.
	applied atomic.Uint64

	// Hooks, set before raft starts; each may be nil. They run on raft's
	// apply goroutine and must be quick.
	onApply   func(keys []string)
	onRestore func()
	onConfig  func()
}

var _ hraft.BatchingFSM = (*fsm)(nil)

// cleanMarker is written, after a final sync of the state machine, when a
// node stops cleanly, and removed when it starts.
const cleanMarker = "fsm-clean"

// openFSM opens the state machine. It is not synced to disk per batch
// (the raft log is, and is the source of truth), so it is trusted at start
// only if the node stopped cleanly; otherwise it is wiped and rebuilt from
// the latest snapshot and the log. trusted tells the caller which.
func openFSM(dir string) (f *fsm, trusted bool, err error) {
	marker := filepath.Join(dir, cleanMarker)
	_, statErr := os.Stat(marker)
	trusted = statErr == nil
	if trusted {
		if err := os.Remove(marker); err != nil {
			return nil, false, fmt.Errorf("storage: raft: clear clean-stop marker: %w", err)
		}
		if err := syncDir(dir); err != nil {
			return nil, false, err
		}
	} else if err := os.RemoveAll(filepath.Join(dir, "fsm")); err != nil {
		return nil, false, fmt.Errorf("storage: raft: discard state machine after an unclean stop: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, "fsm"), bolt.Options{NoSync: true})
	if err != nil {
		return nil, false, err
	}
	f = &fsm{dir: dir, db: db}
	idx, err := db.AppliedIndex()
	if err != nil {
		_ = db.Close()
		return nil, false, err
	}
	f.applied.Store(idx)
	return f, trusted, nil
}

// syncDir makes a directory's entries (a created or removed file) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Apply implements raft.FSM for one entry.
func (f *fsm) Apply(l *hraft.Log) any {
	return f.ApplyBatch([]*hraft.Log{l})[0]
}

// ApplyBatch implements raft.BatchingFSM: every command of the batch is
// applied in one bbolt transaction. The result for each log is nil or the
// error; a malformed command fails alone (it was validated before it was
// proposed, so this only happens with a corrupt log). Once the transaction
// commits, onApply gets the keys the batch wrote or deleted, in log order
// (entries applied before, replayed after a restart, are left out).
func (f *fsm) ApplyBatch(logs []*hraft.Log) []any {
	out := make([]any, len(logs))
	entries := make([]bolt.Indexed, 0, len(logs))
	var keys []string
	prev, config := f.applied.Load(), false
	for i, l := range logs {
		if l.Type == hraft.LogConfiguration {
			config = true
		}
		if l.Type != hraft.LogCommand {
			continue
		}
		ops, err := decodeOps(l.Data)
		if err != nil {
			out[i] = err
			continue
		}
		entries = append(entries, bolt.Indexed{Index: l.Index, Ops: ops})
		if f.onApply != nil && l.Index > prev {
			for _, op := range ops {
				keys = append(keys, op.Entry.Key)
			}
		}
	}
	f.mu.RLock()
	err := f.db.ApplyIndexed(entries)
	f.mu.RUnlock()
	if err != nil {
		for i := range out {
			if out[i] == nil {
				out[i] = err
			}
		}
	}
	// Before the applied index moves: a reader that waits for this batch
	// (WaitApplied) finds the hook's work done.
	if err == nil && len(keys) > 0 {
		f.onApply(keys)
	}
	if last := logs[len(logs)-1].Index; last > f.applied.Load() {
		f.applied.Store(last)
	}
	if config && f.onConfig != nil {
		f.onConfig()
	}
	return out
}

// backend returns the current database under the read lock; the caller
// must call the returned release.
func (f *fsm) backend() (*bolt.Backend, func()) {
	f.mu.RLock()
	return f.db, f.mu.RUnlock
}

// Snapshot implements raft.FSM: the snapshot streams the bbolt file from a
// read transaction when raft persists it.
func (f *fsm) Snapshot() (hraft.FSMSnapshot, error) {
	return &fsmSnapshot{f: f}, nil
}

// Restore implements raft.FSM: the stream is a bbolt file written by
// Snapshot; it replaces the current file.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	tmpDir := filepath.Join(f.dir, "fsm-restore")
	if err := os.RemoveAll(tmpDir); err != nil {
		return err
	}
	if err := os.MkdirAll(tmpDir, 0o700); err != nil {
		return err
	}
	tmp := filepath.Join(tmpDir, bolt.FileName)
	file, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(file, rc); err != nil {
		file.Close()
		return fmt.Errorf("storage: raft: receive snapshot: %w", err)
	}
	if err := file.Sync(); err != nil {
		file.Close()
		return err
	}
	if err := file.Close(); err != nil {
		return err
	}
	// Check the file opens as a database before giving up the current one.
	check, err := bolt.Open(tmpDir, bolt.Options{CheckAllPages: true})
	if err != nil {
		return fmt.Errorf("storage: raft: snapshot is not a database: %w", err)
	}
	if err := check.Close(); err != nil {
		return err
	}
	idx, err := f.install(tmp)
	if err != nil {
		return err
	}
	// Before the applied index moves, as for OnApply: a reader that waits
	// for the restored index finds the hook's work done.
	if f.onRestore != nil {
		f.onRestore()
	}
	f.applied.Store(idx)
	return os.RemoveAll(tmpDir)
}

// install replaces the live database with the file at tmp and returns the
// last log index the new one applied.
func (f *fsm) install(tmp string) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.db.Close(); err != nil {
		return 0, err
	}
	live := filepath.Join(f.dir, "fsm", bolt.FileName)
	if err := os.Rename(tmp, live); err != nil {
		return 0, fmt.Errorf("storage: raft: install snapshot: %w", err)
	}
	db, err := bolt.Open(filepath.Join(f.dir, "fsm"), bolt.Options{NoSync: true})
	if err != nil {
		return 0, fmt.Errorf("storage: raft: reopen after restore: %w", err)
	}
	f.db = db
	return db.AppliedIndex()
}

// close syncs and closes the state machine and, if both worked, marks the
// stop as clean so the next start trusts it.
func (f *fsm) close(clean bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.db.Sync()
	if cerr := f.db.Close(); err == nil {
		err = cerr
	}
	if err != nil || !clean {
		return err
	}
	m, err := os.OpenFile(filepath.Join(f.dir, cleanMarker), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := m.Sync(); err != nil {
		m.Close()
		return err
	}
	if err := m.Close(); err != nil {
		return err
	}
	return syncDir(f.dir)
}

type fsmSnapshot struct{ f *fsm }

// Persist writes the database to the sink.
func (s *fsmSnapshot) Persist(sink hraft.SnapshotSink) error {
	db, release := s.f.backend()
	_, err := db.WriteSnapshot(sink)
	release()
	if err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}
