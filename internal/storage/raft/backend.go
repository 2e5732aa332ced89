package raft

import (
	"context"
	"errors"
	"fmt"

	hraft "github.com/hashicorp/raft"

	"github.com/cofferdev/coffer/internal/storage"
)

// Get implements storage.Backend from this node's state machine. On a
// follower it may lag the leader by what is in flight; callers that need
// to read their writes on a follower wait with WaitApplied first.
func (b *Backend) Get(ctx context.Context, key string) (*storage.Entry, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db, release := b.fsm.backend()
	defer release()
	return db.Get(ctx, key)
}

// List implements storage.Backend from this node's state machine.
func (b *Backend) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db, release := b.fsm.backend()
	defer release()
	return db.List(ctx, prefix)
}

// Put implements storage.Backend through the raft log.
func (b *Backend) Put(ctx context.Context, e *storage.Entry) error {
	if err := storage.ValidateEntry(e); err != nil {
		return err
	}
	return b.apply(ctx, []storage.TxnOp{{Kind: storage.OpPut, Entry: *e}})
}

// Delete implements storage.Backend through the raft log.
func (b *Backend) Delete(ctx context.Context, key string) error {
	if err := storage.ValidateKey(key); err != nil {
		return err
	}
	return b.apply(ctx, []storage.TxnOp{{Kind: storage.OpDelete, Entry: storage.Entry{Key: key}}})
}

// Transaction implements storage.Backend: the operations are one log entry,
// applied in one state-machine transaction on every node.
func (b *Backend) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	if err := storage.ValidateOps(ops); err != nil {
		return err
	}
	if len(ops) == 0 {
		return nil
	}
	return b.apply(ctx, ops)
}

// apply proposes ops and waits until this node has applied them, so a
// write is visible to the writer's next read.
func (b *Backend) apply(ctx context.Context, ops []storage.TxnOp) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	for _, op := range ops {
		if err := checkSize(&op.Entry); err != nil {
			return err
		}
	}
	f := b.raft.Apply(encodeOps(ops), b.timeout)
	if err := f.Error(); err != nil {
		if errors.Is(err, hraft.ErrLeadershipLost) {
			return fmt.Errorf("%w: the write may or may not have been applied", ErrOutcomeUnknown)
		}
		if lerr := b.leaderErr(err); lerr != err {
			// Refused before it was proposed: the request belongs on the
			// active node.
			return fmt.Errorf("%w: %w", storage.ErrReadOnly, lerr)
		}
		return fmt.Errorf("storage: raft: apply: %w", err)
	}
	if err, ok := f.Response().(error); ok && err != nil {
		return fmt.Errorf("storage: raft: apply: %w", err)
	}
	return nil
}

// maxValueSize bounds one value: a raft log entry travels in one message.
const maxValueSize = 16 << 20

func checkSize(e *storage.Entry) error {
	if len(e.Value) > maxValueSize {
		return fmt.Errorf("%w: value of %d bytes exceeds %d", storage.ErrTooLarge, len(e.Value), maxValueSize)
	}
	return nil
}
