package bolt

import (
	"encoding/binary"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"

	"github.com/cofferdev/coffer/internal/storage"
)

// metaBucket holds the replication index of a database used as a
// replicated state machine (internal/storage/raft); plain use never writes it.
const metaBucket = "coffer-meta"

var appliedKey = []byte("applied-index")

// Indexed is one replicated log entry's operations with its log index.
type Indexed struct {
	Index uint64
	Ops   []storage.TxnOp
}

// ApplyIndexed applies the entries whose index is above the recorded one,
// in order, and records the last index, all in one bbolt transaction (one
// commit for the whole batch). Entries at or below the recorded index were
// applied before (a restart replays the log from the last snapshot) and
// are skipped, so the state never moves back.
func (b *Backend) ApplyIndexed(entries []Indexed) error {
	if len(entries) == 0 {
		return nil
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists([]byte(metaBucket))
		if err != nil {
			return err
		}
		applied := decodeIndex(meta.Get(appliedKey))
		data := tx.Bucket([]byte(bucket))
		last := applied
		for _, e := range entries {
			if e.Index <= applied {
				continue
			}
			if err := applyOps(data, e.Ops); err != nil {
				return fmt.Errorf("index %d: %w", e.Index, err)
			}
			last = e.Index
		}
		if last == applied {
			return nil
		}
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], last)
		return meta.Put(appliedKey, buf[:])
	})
	if err != nil {
		return fmt.Errorf("storage: bolt: apply replicated entries: %w", err)
	}
	return nil
}

func applyOps(data *bolt.Bucket, ops []storage.TxnOp) error {
	for _, op := range ops {
		var err error
		if op.Kind == storage.OpPut {
			err = data.Put([]byte(op.Entry.Key), op.Entry.Value)
		} else {
			err = data.Delete([]byte(op.Entry.Key))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// AppliedIndex is the last replicated index ApplyIndexed recorded (0 if
// none).
func (b *Backend) AppliedIndex() (uint64, error) {
	var idx uint64
	err := b.db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket([]byte(metaBucket)); meta != nil {
			idx = decodeIndex(meta.Get(appliedKey))
		}
		return nil
	})
	return idx, err
}

func decodeIndex(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// WriteSnapshot writes a consistent copy of the whole database file to w
// from one read transaction; writers go on meanwhile.
func (b *Backend) WriteSnapshot(w io.Writer) (int64, error) {
	var n int64
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("storage: bolt: snapshot: %w", err)
	}
	return n, nil
}

// Sync flushes the database file to disk; with Options.NoSync it is how a
// caller makes the file durable at a point of its choosing.
func (b *Backend) Sync() error {
	if err := b.db.Sync(); err != nil {
		return fmt.Errorf("storage: bolt: sync: %w", err)
	}
	return nil
}
