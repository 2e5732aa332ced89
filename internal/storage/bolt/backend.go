package bolt

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/cofferdev/coffer/internal/storage"
)

// Get implements storage.Backend. The returned Value is the caller's own copy.
func (b *Backend) Get(ctx context.Context, key string) (*storage.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := storage.ValidateKey(key); err != nil {
		return nil, err
	}
	var value []byte
	err := b.db.View(func(tx *bolt.Tx) error {
		// Decide presence by the key the cursor lands on, not by v being
		// nil, so an empty value is never mistaken for a missing key.
		k, v := tx.Bucket([]byte(bucket)).Cursor().Seek([]byte(key))
		if k != nil && string(k) == key {
			value = append([]byte{}, v...) // v is only valid inside the transaction
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: bolt: get: %w", err)
	}
	if value == nil {
		return nil, storage.ErrNotFound
	}
	return &storage.Entry{Key: key, Value: value}, nil
}

// Put implements storage.Backend.
func (b *Backend) Put(ctx context.Context, entry *storage.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.ValidateEntry(entry); err != nil {
		return err
	}
	if err := checkSize(entry); err != nil {
		return err
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucket)).Put([]byte(entry.Key), entry.Value)
	})
	if err != nil {
		return fmt.Errorf("storage: bolt: put: %w", err)
	}
	return nil
}

// Delete implements storage.Backend.
func (b *Backend) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucket)).Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("storage: bolt: delete: %w", err)
	}
	return nil
}

// List implements storage.Backend. It seeks to prefix and, on meeting a
// sub-folder, seeks past all of it, so the cost is one seek per child
// reported rather than one step per key under prefix.
func (b *Backend) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := storage.ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	var children []string
	err := b.db.View(func(tx *bolt.Tx) error {
		children = listChildren(tx.Bucket([]byte(bucket)).Cursor(), []byte(prefix))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: bolt: list: %w", err)
	}
	return children, nil
}

// listChildren returns the immediate children of prefix, as storage.Child
// spells them, in key order.
func listChildren(c *bolt.Cursor, prefix []byte) []string {
	var children []string
	k, _ := c.Seek(prefix)
	for k != nil && bytes.HasPrefix(k, prefix) {
		rest := k[len(prefix):]
		i := bytes.IndexByte(rest, '/')
		switch {
		case len(rest) == 0: // the key equal to prefix is not its own child
			k, _ = c.Next()
		case i >= 0:
			children = append(children, string(rest[:i+1]))
			k, _ = c.Seek(folderEnd(k[:len(prefix)+i+1]))
		default:
			children = append(children, string(rest))
			k, _ = c.Next()
		}
	}
	return children
}

// folderEnd returns the smallest key that sorts after every key starting
// with folder, which ends in "/": a copy with that "/" bumped to "0".
func folderEnd(folder []byte) []byte {
	end := bytes.Clone(folder)
	end[len(end)-1] = '/' + 1
	return end
}

// Transaction implements storage.Backend as one bbolt read-write
// transaction: bbolt commits all of it or, on any error, none.
func (b *Backend) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.ValidateOps(ops); err != nil {
		return err
	}
	for i := range ops {
		if ops[i].Kind != storage.OpPut {
			continue
		}
		if err := checkSize(&ops[i].Entry); err != nil {
			return fmt.Errorf("operation %d: %w", i, err)
		}
	}
	if len(ops) == 0 {
		return nil
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		bucket := tx.Bucket([]byte(bucket))
		for _, op := range ops {
			var err error
			if op.Kind == storage.OpPut {
				err = bucket.Put([]byte(op.Entry.Key), op.Entry.Value)
			} else {
				err = bucket.Delete([]byte(op.Entry.Key))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: bolt: transaction: %w", err)
	}
	return nil
}

// checkSize reports ErrTooLarge for a key or value bbolt cannot store.
func checkSize(e *storage.Entry) error {
	switch {
	case len(e.Key) > bolt.MaxKeySize:
		return fmt.Errorf("%w: key of %d bytes exceeds %d", storage.ErrTooLarge, len(e.Key), bolt.MaxKeySize)
	case int64(len(e.Value)) > bolt.MaxValueSize:
		return fmt.Errorf("%w: value of %d bytes exceeds %d", storage.ErrTooLarge, len(e.Value), bolt.MaxValueSize)
	}
	return nil
}
