package raft

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cofferdev/coffer/internal/storage"
)

// commandVersion is the first byte of every replicated command.
const commandVersion byte = 1

// ErrBadCommand is returned when a log entry does not decode.
var ErrBadCommand = errors.New("storage: raft: malformed command")

// encodeOps serialises a transaction as one log entry: a version byte, the
// number of operations, then per operation its kind, key and value, each
// length-prefixed with a uvarint.
func encodeOps(ops []storage.TxnOp) []byte {
	size := 1 + binary.MaxVarintLen64
	for _, op := range ops {
		size += 1 + 2*binary.MaxVarintLen64 + len(op.Entry.Key) + len(op.Entry.Value)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, commandVersion)
	buf = binary.AppendUvarint(buf, uint64(len(ops)))
	for _, op := range ops {
		buf = append(buf, byte(op.Kind))
		buf = binary.AppendUvarint(buf, uint64(len(op.Entry.Key)))
		buf = append(buf, op.Entry.Key...)
		if op.Kind == storage.OpPut {
			buf = binary.AppendUvarint(buf, uint64(len(op.Entry.Value)))
			buf = append(buf, op.Entry.Value...)
		}
	}
	return buf
}

// decodeOps parses a log entry written by encodeOps. Values alias b.
func decodeOps(b []byte) ([]storage.TxnOp, error) {
	if len(b) == 0 || b[0] != commandVersion {
		return nil, fmt.Errorf("%w: unknown version", ErrBadCommand)
	}
	b = b[1:]
	n, b, err := readUvarint(b)
	if err != nil {
		return nil, err
	}
	if n > uint64(len(b)) { // every operation takes at least one byte
		return nil, fmt.Errorf("%w: %d operations in %d bytes", ErrBadCommand, n, len(b))
	}
	ops := make([]storage.TxnOp, 0, n)
	for i := uint64(0); i < n; i++ {
		if len(b) == 0 {
			return nil, fmt.Errorf("%w: truncated", ErrBadCommand)
		}
		op := storage.TxnOp{Kind: storage.OpKind(b[0])}
		b = b[1:]
		if op.Kind != storage.OpPut && op.Kind != storage.OpDelete {
			return nil, fmt.Errorf("%w: operation kind %d", ErrBadCommand, op.Kind)
		}
		var key []byte
		if key, b, err = readBytes(b); err != nil {
			return nil, err
		}
		op.Entry.Key = string(key)
		if op.Kind == storage.OpPut {
			if op.Entry.Value, b, err = readBytes(b); err != nil {
				return nil, err
			}
		}
		ops = append(ops, op)
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadCommand, len(b))
	}
	return ops, storage.ValidateOps(ops)
}

func readUvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, fmt.Errorf("%w: bad length", ErrBadCommand)
	}
	return v, b[n:], nil
}

func readBytes(b []byte) ([]byte, []byte, error) {
	l, b, err := readUvarint(b)
	if err != nil {
		return nil, nil, err
	}
	if l > uint64(len(b)) {
		return nil, nil, fmt.Errorf("%w: truncated", ErrBadCommand)
	}
	return b[:l:l], b[l:], nil
}
