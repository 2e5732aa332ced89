package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/logical"
)

// Scheduled snapshot files are named coffer-raft-<UTC time>.snap; the time
// format sorts by name in time order.
const (
	snapshotPrefix     = "coffer-raft-"
	snapshotSuffix     = ".snap"
	snapshotTimeFormat = "20060102T150405.000Z"
)

// snapshotSaver writes a snapshot archive (the core, unsealed).
type snapshotSaver interface {
	SaveRaftSnapshot(w io.Writer) error
	// Standby is true on an unsealed standby node: only the active node
	// of a cluster takes scheduled snapshots.
	Standby() bool
}

// raftSnapshots writes a snapshot every interval into a directory and
// prunes the oldest beyond the retention, until stop.
type raftSnapshots struct {
	saver  snapshotSaver
	cfg    config.RaftSnapshot
	logger *slog.Logger
	now    func() time.Time
	done   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

// startRaftSnapshots starts the schedule in a goroutine.
func startRaftSnapshots(saver snapshotSaver, cfg config.RaftSnapshot, logger *slog.Logger) *raftSnapshots {
	r := &raftSnapshots{saver: saver, cfg: cfg, logger: logger, now: time.Now, done: make(chan struct{})}
	r.wg.Add(1)
	go r.loop()
	return r
}

// stop ends the schedule and waits for a run in progress; calling it
// again does nothing.
func (r *raftSnapshots) stop() {
	r.once.Do(func() { close(r.done) })
	r.wg.Wait()
}

func (r *raftSnapshots) loop() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
			if r.saver.Standby() {
				r.logger.Debug("server: scheduled raft snapshot skipped: the active node takes them")
				continue
			}
			start := time.Now()
			name, size, err := r.runOnce()
			if errors.Is(err, logical.ErrSealed) {
				r.logger.Info("server: scheduled raft snapshot skipped: the server is sealed")
				continue
			}
			if err != nil {
				r.logger.Error("server: scheduled raft snapshot failed", "dir", r.cfg.Path, "error", err)
				continue
			}
			r.logger.Info("server: scheduled raft snapshot written", "file", name, "bytes", size,
				"duration", time.Since(start))
		}
	}
}

// runOnce writes one snapshot atomically (temporary file, fsync, rename,
// fsync of the directory), then prunes.
func (r *raftSnapshots) runOnce() (string, int64, error) {
	if err := os.MkdirAll(r.cfg.Path, 0o700); err != nil {
		return "", 0, fmt.Errorf("snapshot directory: %w", err)
	}
	tmp, err := os.CreateTemp(r.cfg.Path, ".coffer-raft-*.tmp")
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	bw := bufio.NewWriterSize(tmp, 1<<20)
	err = r.saver.SaveRaftSnapshot(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, err
	}
	info, err := os.Stat(tmp.Name())
	if err != nil {
		return "", 0, err
	}
	name := filepath.Join(r.cfg.Path, snapshotPrefix+r.now().UTC().Format(snapshotTimeFormat)+snapshotSuffix)
	if err := os.Rename(tmp.Name(), name); err != nil {
		return "", 0, err
	}
	if err := syncDir(r.cfg.Path); err != nil {
		return "", 0, err
	}
	if err := pruneSnapshots(r.cfg.Path, int(r.cfg.Retain)); err != nil {
		return name, info.Size(), fmt.Errorf("prune: %w", err)
	}
	return name, info.Size(), nil
}

// pruneSnapshots removes the oldest scheduled snapshots beyond retain.
// Other files in the directory are left alone.
func pruneSnapshots(dir string, retain int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var snaps []string
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, snapshotPrefix) && strings.HasSuffix(n, snapshotSuffix) {
			snaps = append(snaps, n)
		}
	}
	slices.Sort(snaps)
	for len(snaps) > retain {
		if err := os.Remove(filepath.Join(dir, snaps[0])); err != nil {
			return err
		}
		snaps = snaps[1:]
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
