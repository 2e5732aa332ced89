package kv

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// UpgradeV1 copies every secret of a KV v1 mount's storage (from) into KV
// v2's layout in to, each as version 1 of its key, created at now, and
// returns how many it copied. It is the data half of Vault's
// `kv enable-versioning`. to must be a fresh, empty view, since KV v1 keys
// may look like KV v2's own ("config", "metadata/..."). from is only read.
// progress, if set, is called after each secret with the count so far. A
// stored value that is not a JSON object stops the copy with
// ErrCorruptEntry, naming no value.
func UpgradeV1(ctx context.Context, from, to storage.Backend, now time.Time, progress func(int)) (int, error) {
	u := &upgrader{from: from, to: to, now: now.UTC(), progress: progress}
	err := u.walk(ctx, "")
	return u.n, err
}

type upgrader struct {
	from, to storage.Backend
	now      time.Time
	progress func(int)
	n        int
}

func (u *upgrader) walk(ctx context.Context, prefix string) error {
	keys, err := u.from.List(ctx, prefix)
	if err != nil {
		return storageError("list", err)
	}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		full := prefix + k
		if strings.HasSuffix(k, "/") {
			if err := u.walk(ctx, full); err != nil {
				return err
			}
			continue
		}
		if err := u.copy(ctx, full); err != nil {
			return err
		}
	}
	return nil
}

// copy writes the secret at key as version 1, data and metadata in one
// transaction.
func (u *upgrader) copy(ctx context.Context, key string) error {
	e, err := u.from.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return storageError("read", err)
	}
	if _, err := decodeObject(e.Value); err != nil {
		return ErrCorruptEntry
	}
	meta := &keyMetadata{}
	meta.addVersion(u.now, time.Time{}, 0)
	metaOp, err := putOp(metadataKey(key), meta)
	if err != nil {
		return err
	}
	ops := []storage.TxnOp{
		{Kind: storage.OpPut, Entry: storage.Entry{Key: versionKey(key, 1), Value: e.Value}},
		metaOp,
	}
	if err := u.to.Transaction(ctx, ops); err != nil {
		return storageError("write version", err)
	}
	u.n++
	if u.progress != nil {
		u.progress(u.n)
	}
	return nil
}
