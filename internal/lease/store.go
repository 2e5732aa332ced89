package lease

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// Storage layout inside the manager's view:
//
//	lease/<lease id>                       the Lease as JSON
//	expiry/<d[0:6]>/<d[6:8]>/<d[8:11]>/<d[11:20]>-<h>   value: lease id
//	token/<sha256(accessor)>/<h>            value: lease id
//	irrevocable/<h>                         value: lease id
//
// d is the due time as 20-digit zero-padded unix nanoseconds and h the first
// 32 hex digits of sha256(lease id). The expiry index splits d into levels
// (1e5 s, 1e3 s, 1 s buckets, then nanoseconds) because storage.List has no
// limit: a flat folder would make finding the next expiry list every lease.
// With the levels each List returns at most a few thousand names (leases due
// in the same second excepted), so finding the next batch costs the same with
// 10 or 10 million leases.
const (
	leasePrefix       = "lease/"
	expiryPrefix      = "expiry/"
	tokenPrefix       = "token/"
	irrevocablePrefix = "irrevocable/"
	expiryDepth       = 4
)

// store reads and writes leases and their indexes in one view.
type store struct {
	view storage.Backend
}

func idHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}

func accessorHash(accessor string) string {
	sum := sha256.Sum256([]byte("accessor:" + accessor))
	return hex.EncodeToString(sum[:16])
}

// expiryKey is the index key of id due at t.
func expiryKey(t time.Time, id string) string {
	n := t.UnixNano()
	if n < 0 {
		n = 0
	}
	d := fmt.Sprintf("%020d", n)
	return expiryPrefix + d[0:6] + "/" + d[6:8] + "/" + d[8:11] + "/" + d[11:20] + "-" + idHash(id)
}

// parseExpiryKey returns the due time of an index key.
func parseExpiryKey(key string) (time.Time, error) {
	rest, ok := strings.CutPrefix(key, expiryPrefix)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: index key %q", ErrInvalidID, key)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != expiryDepth {
		return time.Time{}, fmt.Errorf("%w: index key %q", ErrInvalidID, key)
	}
	leaf, _, _ := strings.Cut(parts[3], "-")
	digits := parts[0] + parts[1] + parts[2] + leaf
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || len(digits) != 20 {
		return time.Time{}, fmt.Errorf("%w: index key %q", ErrInvalidID, key)
	}
	return time.Unix(0, n), nil
}

func tokenKey(accessor, id string) string {
	return tokenPrefix + accessorHash(accessor) + "/" + idHash(id)
}

func irrevocableKey(id string) string { return irrevocablePrefix + idHash(id) }

// get loads a lease; ErrNotFound when absent.
func (s *store) get(ctx context.Context, id string) (*Lease, error) {
	e, err := s.view.Get(ctx, leasePrefix+id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("lease: read %q: %w", id, err)
	}
	var l Lease
	if err := json.Unmarshal(e.Value, &l); err != nil {
		return nil, fmt.Errorf("lease: decode %q: %w", id, err)
	}
	return &l, nil
}

// readValue returns an index entry's value (a lease id), "" when absent.
func (s *store) readValue(ctx context.Context, key string) (string, error) {
	e, err := s.view.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("lease: read index %q: %w", key, err)
	}
	return string(e.Value), nil
}

// indexOps are the puts that store l and its indexes.
func indexOps(l *Lease) ([]storage.TxnOp, error) {
	raw, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("lease: encode %q: %w", l.ID, err)
	}
	put := func(k string, v []byte) storage.TxnOp {
		return storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: k, Value: v}}
	}
	ops := []storage.TxnOp{put(leasePrefix+l.ID, raw)}
	if l.Irrevocable {
		ops = append(ops, put(irrevocableKey(l.ID), []byte(l.ID)))
	} else {
		ops = append(ops, put(expiryKey(l.DueTime, l.ID), []byte(l.ID)))
	}
	if l.TokenAccessor != "" {
		ops = append(ops, put(tokenKey(l.TokenAccessor, l.ID), []byte(l.ID)))
	}
	return ops, nil
}

// deleteOps are the deletes that remove l and its indexes.
func deleteOps(l *Lease) []storage.TxnOp {
	del := func(k string) storage.TxnOp {
		return storage.TxnOp{Kind: storage.OpDelete, Entry: storage.Entry{Key: k}}
	}
	ops := []storage.TxnOp{del(leasePrefix + l.ID), del(expiryKey(l.DueTime, l.ID)), del(irrevocableKey(l.ID))}
	if l.TokenAccessor != "" {
		ops = append(ops, del(tokenKey(l.TokenAccessor, l.ID)))
	}
	return ops
}

// put writes l, replacing old's index entries when old is not nil.
func (s *store) put(ctx context.Context, old, l *Lease) error {
	ops, err := indexOps(l)
	if err != nil {
		return err
	}
	if old != nil && !old.Irrevocable && (l.Irrevocable || !old.DueTime.Equal(l.DueTime)) {
		ops = append([]storage.TxnOp{{Kind: storage.OpDelete, Entry: storage.Entry{Key: expiryKey(old.DueTime, old.ID)}}}, ops...)
	}
	if err := s.view.Transaction(ctx, ops); err != nil {
		return fmt.Errorf("lease: write %q: %w", l.ID, err)
	}
	return nil
}

// remove deletes l and its indexes in one transaction.
func (s *store) remove(ctx context.Context, l *Lease) error {
	if err := s.view.Transaction(ctx, deleteOps(l)); err != nil {
		return fmt.Errorf("lease: delete %q: %w", l.ID, err)
	}
	return nil
}

// indexEntry is one entry of the expiry index.
type indexEntry struct {
	key string
	due time.Time
}

// scanExpiry visits index entries in due order until fn returns false. It
// lists one folder per level on the way, never the whole index.
func (s *store) scanExpiry(ctx context.Context, fn func(indexEntry) bool) error {
	_, err := s.scanLevel(ctx, expiryPrefix, 0, fn)
	return err
}

func (s *store) scanLevel(ctx context.Context, prefix string, depth int, fn func(indexEntry) bool) (bool, error) {
	names, err := s.view.List(ctx, prefix)
	if err != nil {
		return false, fmt.Errorf("lease: list index %q: %w", prefix, err)
	}
	for _, name := range names {
		if depth < expiryDepth-1 {
			if !strings.HasSuffix(name, "/") {
				continue
			}
			more, err := s.scanLevel(ctx, prefix+name, depth+1, fn)
			if err != nil || !more {
				return more, err
			}
			continue
		}
		key := prefix + name
		due, err := parseExpiryKey(key)
		if err != nil {
			continue
		}
		if !fn(indexEntry{key: key, due: due}) {
			return false, nil
		}
	}
	return true, nil
}

// due returns up to limit index entries due at or before now, and the due
// time of the first entry after them (zero when the index holds no more).
func (s *store) due(ctx context.Context, now time.Time, limit int) ([]indexEntry, time.Time, error) {
	var out []indexEntry
	var next time.Time
	err := s.scanExpiry(ctx, func(e indexEntry) bool {
		if e.due.After(now) || len(out) == limit {
			next = e.due
			return false
		}
		out = append(out, e)
		return true
	})
	return out, next, err
}

// walk calls fn with every key under prefix, depth first.
func (s *store) walk(ctx context.Context, prefix string, fn func(key string) error) error {
	names, err := s.view.List(ctx, prefix)
	if err != nil {
		return fmt.Errorf("lease: list %q: %w", prefix, err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, "/") {
			if err := s.walk(ctx, prefix+name, fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(prefix + name); err != nil {
			return err
		}
	}
	return nil
}
