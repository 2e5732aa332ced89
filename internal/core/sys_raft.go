package core

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"io"

	"github.com/cofferdev/coffer/internal/barrier"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage/raft"
)

// snapshotTagLabel is the HKDF info that derives, from the root key, the
// HMAC key tagging a snapshot archive's checksums (SHA256SUMS.sealed): a
// non-forced restore accepts only archives tagged by this cluster.
const snapshotTagLabel = "coffer raft snapshot checksums v1"

// errRaftNotInUse answers the raft endpoints on other storage.
var errRaftNotInUse = logical.InvalidRequest("raft storage is not in use")

// raftBackend returns the raft storage, or errRaftNotInUse.
func (c *Core) raftBackend() (*raft.Backend, error) {
	if rb, ok := c.physical.(*raft.Backend); ok {
		return rb, nil
	}
	return nil, errRaftNotInUse
}

// raftPaths serve sys/storage/raft/*: the configuration, peer removal and
// snapshots. Every path needs sudo (sudoPaths).
func (c *Core) raftPaths(st *unsealedState) []*logical.Path {
	return []*logical.Path{
		{Pattern: "storage/raft/configuration", Help: "the raft cluster configuration",
			Operations: ops(map[logical.Operation]logical.Handler{logical.ReadOperation: c.raftConfiguration})},
		{Pattern: "storage/raft/remove-peer", Help: "remove a node from the raft cluster",
			Fields:     map[string]*logical.Field{"server_id": {Type: logical.TypeString, Required: true}},
			Operations: ops(map[logical.Operation]logical.Handler{logical.UpdateOperation: c.raftRemovePeer})},
		{Pattern: "storage/raft/snapshot", Help: "save or restore a snapshot of the raft storage",
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ReadOperation: c.raftSnapshotSave,
				logical.UpdateOperation: func(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
					return c.raftSnapshotRestore(ctx, req, false)
				}})},
		{Pattern: "storage/raft/snapshot-force", Help: "restore a snapshot written by another cluster",
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.UpdateOperation: func(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
					return c.raftSnapshotRestore(ctx, req, true)
				}})},
	}
}

func (c *Core) raftConfiguration(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	rb, err := c.raftBackend()
	if err != nil {
		return nil, err
	}
	peers, index, err := rb.Configuration()
	if err != nil {
		return nil, err
	}
	servers := make([]map[string]any, 0, len(peers))
	for _, p := range peers {
		servers = append(servers, map[string]any{"node_id": p.ID, "address": p.Address,
			"leader": p.Leader, "voter": p.Voter, "protocol_version": "3"})
	}
	return logical.DataResponse(map[string]any{"config": map[string]any{"servers": servers, "index": index}}), nil
}

func (c *Core) raftRemovePeer(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	rb, err := c.raftBackend()
	if err != nil {
		return nil, err
	}
	id := d.String("server_id")
	if id == rb.NodeID() {
		return nil, logical.InvalidRequest("server %q is the node serving this request; remove it from another node", id)
	}
	peers, err := rb.Peers()
	if err != nil {
		return nil, err
	}
	known := false
	for _, p := range peers {
		known = known || p.ID == id
	}
	if !known {
		return nil, logical.InvalidRequest("no server with id %q in the raft configuration", id)
	}
	if err := rb.RemovePeer(id); err != nil {
		return nil, err
	}
	c.logger.Info("core: raft peer removed", "server_id", id)
	return &logical.Response{NoContent: true}, nil
}

// raftSnapshotSave takes a snapshot now and returns it as a stream: an
// archive whose checksums carry this cluster's tag.
func (c *Core) raftSnapshotSave(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s, err := c.openRaftSnapshot()
	if err != nil {
		return nil, err
	}
	c.logger.Info("core: raft snapshot taken", "request_id", req.ID)
	return &logical.Response{Stream: s}, nil
}

// SaveRaftSnapshot writes a snapshot archive of raft storage to w, as
// GET sys/storage/raft/snapshot does (scheduled snapshots use it). The core
// must be unsealed: the archive is tagged with a key derived from the root
// key.
func (c *Core) SaveRaftSnapshot(w io.Writer) error {
	s, err := c.openRaftSnapshot()
	if err != nil {
		return err
	}
	err = s.WriteTo(w)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// openRaftSnapshot takes a snapshot and returns the stream that writes it
// as an archive; the stream must be closed.
func (c *Core) openRaftSnapshot() (*logical.Stream, error) {
	rb, err := c.raftBackend()
	if err != nil {
		return nil, err
	}
	tagKey, err := c.snapshotTagKey()
	if errors.Is(err, barrier.ErrSealed) {
		return nil, logical.ErrSealed
	}
	if err != nil {
		return nil, err
	}
	snap, err := rb.OpenSnapshot()
	if err != nil {
		clear(tagKey)
		return nil, err
	}
	return &logical.Stream{
		ContentType: "application/octet-stream",
		WriteTo: func(w io.Writer) error {
			return snap.WriteArchive(w, func(sums []byte) ([]byte, error) { return snapshotTag(tagKey, sums), nil })
		},
		Close: func() error {
			clear(tagKey)
			return snap.Close()
		},
	}, nil
}

// raftSnapshotRestore replaces the whole storage with an uploaded archive.
// The archive is read and checked first (a bad one changes nothing); a
// non-forced restore also needs this cluster's tag. The barrier is sealed
// before the restore, so no request reads or writes the new storage with
// the old keys, and the core seals as soon as this request ends (see
// finishRestoreSeal): the restored storage holds its own keyring and seal
// configuration, and is unsealed with the keys of the cluster it came from.
func (c *Core) raftSnapshotRestore(ctx context.Context, req *logical.Request, force bool) (*logical.Response, error) {
	rb, err := c.raftBackend()
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, logical.InvalidRequest("the snapshot must be sent as the request body")
	}
	// Held until the core is sealed, so no unseal, rekey or generate-root
	// runs in between. TryLock: a seal waiting for this request's state
	// lock may hold it.
	if !c.sealLock.TryLock() {
		return nil, logical.Errorf(logical.KindConflict, "a seal operation is in progress; try again")
	}
	handedOff := false
	defer func() {
		if !handedOff {
			c.sealLock.Unlock()
		}
	}()
	a, err := rb.ReadArchive(req.Body)
	if errors.Is(err, raft.ErrBadArchive) {
		return nil, logical.InvalidRequest("%v", err)
	}
	if err != nil {
		return nil, err
	}
	defer a.Close()
	if !force {
		if err := c.checkSnapshotTag(a); err != nil {
			return nil, err
		}
	} else if err := c.keepClusterIdentity(ctx); err != nil {
		return nil, err
	}
	c.barrier.Seal()
	handedOff = true
	go c.finishRestoreSeal()
	if err := rb.RestoreArchive(a); err != nil {
		c.logger.Error("core: raft snapshot restore failed; the core seals", "error", err)
		return nil, err
	}
	c.logger.Warn("core: raft snapshot restored; sealing: unseal with the keys of the cluster the snapshot came from",
		"forced", force)
	return &logical.Response{NoContent: true}, nil
}

// finishRestoreSeal seals the core once the restoring request released its
// state lock, then releases the seal lock the request took. With an auto
// seal the core then tries to unseal itself, as it does at start-up.
func (c *Core) finishRestoreSeal() {
	ctx := context.Background()
	c.sealLocked(ctx)
	c.sealLock.Unlock()
	if c.autoSeal != nil {
		if err := c.UnsealAuto(ctx); err != nil {
			c.logger.Error("core: auto-unseal after a snapshot restore failed", "error", err)
		}
	}
}

func (c *Core) checkSnapshotTag(a *raft.Archive) error {
	key, err := c.snapshotTagKey()
	if err != nil {
		return err
	}
	defer clear(key)
	if !hmac.Equal(snapshotTag(key, a.Sums), a.Sealed) {
		return logical.InvalidRequest("the snapshot was not written by this cluster (or its checksums were altered); " +
			"to replace this cluster's data with another cluster's, use sys/storage/raft/snapshot-force")
	}
	return nil
}

// snapshotTagKey derives the snapshot tag key from the root key.
func (c *Core) snapshotTagKey() ([]byte, error) {
	root, err := c.barrier.RootKey()
	if err != nil {
		return nil, err
	}
	defer clear(root)
	return hkdf.Key(sha256.New, root, nil, snapshotTagLabel, 32)
}

func snapshotTag(key, sums []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(sums)
	return m.Sum(nil)
}
