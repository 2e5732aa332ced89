package storage

import (
	"context"
	"fmt"
	"strings"
)

// deleteBatchSize is the most operations DeletePrefix puts in one
// Transaction. etcd rejects transactions of more than 128 operations by
// default, and smaller batches keep raft log entries small.
const deleteBatchSize = 128

// DeletePrefix deletes every key under prefix ("" means every key in b),
// walking sub-folders recursively, in transactions of at most 128
// operations. It is not atomic: if it fails part way, some keys are gone and
// calling it again finishes the job. Keys written under prefix while it runs
// may survive.
func DeletePrefix(ctx context.Context, b Backend, prefix string) error {
	if err := ValidatePrefix(prefix); err != nil {
		return err
	}
	d := &prefixDeleter{b: b, ops: make([]TxnOp, 0, deleteBatchSize)}
	if err := d.walk(ctx, prefix); err != nil {
		return err
	}
	return d.flush(ctx)
}

// prefixDeleter collects delete operations into batches.
type prefixDeleter struct {
	b   Backend
	ops []TxnOp
}

// walk queues a delete for every key under prefix.
func (d *prefixDeleter) walk(ctx context.Context, prefix string) error {
	children, err := d.b.List(ctx, prefix)
	if err != nil {
		return fmt.Errorf("storage: delete prefix: list: %w", err)
	}
	for _, child := range children {
		key := prefix + child
		if strings.HasSuffix(child, "/") {
			if err := d.walk(ctx, key); err != nil {
				return err
			}
		}
		// For a folder this also removes a key spelled like the folder
		// itself ("a/b/"), which List under the folder cannot report.
		if err := d.add(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

func (d *prefixDeleter) add(ctx context.Context, key string) error {
	d.ops = append(d.ops, TxnOp{Kind: OpDelete, Entry: Entry{Key: key}})
	if len(d.ops) < deleteBatchSize {
		return nil
	}
	return d.flush(ctx)
}

func (d *prefixDeleter) flush(ctx context.Context) error {
	if len(d.ops) == 0 {
		return nil
	}
	if err := d.b.Transaction(ctx, d.ops); err != nil {
		return fmt.Errorf("storage: delete prefix: %w", err)
	}
	d.ops = d.ops[:0]
	return nil
}
