package kv

import (
	"context"
	"maps"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// dataPath is data/<path>: read a version, write a new one, patch the latest
// one, soft-delete the latest one.
func (b *versioned) dataPath() *logical.Path {
	return &logical.Path{
		Pattern: `data/(?P<path>(?s:.+))`,
		Fields: map[string]*logical.Field{
			"version": {Type: logical.TypeInt, Description: "Version to read; the latest if 0 or unset."},
			"data":    {Type: logical.TypeMap, Description: "The secret's key/value pairs."},
			"options": {Type: logical.TypeMap, Description: `Write options; "cas" is the check-and-set version.`},
		},
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   b.dataRead,
			logical.CreateOperation: b.dataWrite,
			logical.UpdateOperation: b.dataWrite,
			logical.PatchOperation:  b.dataPatch,
			logical.DeleteOperation: b.dataDelete,
		},
		Existence: b.metadataExists,
		Help:      "Write, patch, read and soft-delete versions of a secret.",
	}
}

func (b *versioned) dataRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key := d.String("path")
	if err := validatePath(key); err != nil {
		return nil, err
	}
	l := b.locks.forKey(key)
	l.RLock()
	defer l.RUnlock()

	// meta is shared with the metadata cache: read it, never change it.
	meta, err := b.meta.readMetadata(ctx, req.Storage, key)
	if err != nil || meta == nil {
		return nil, err
	}
	n := meta.CurrentVersion
	if v := d.Int("version"); v > 0 {
		n = uint64(v)
	}
	vm := meta.Versions[n]
	if vm == nil {
		return nil, nil
	}
	body := map[string]any{"data": nil, "metadata": versionFields(n, vm, maps.Clone(meta.CustomMetadata))}
	if vm.gone(b.clock()) {
		return notFoundWithData(body), nil
	}
	data, err := b.data.readVersion(ctx, req.Storage, key, n)
	if err != nil {
		return nil, err
	}
	body["data"] = data
	return &logical.Response{Data: body}, nil
}

func (b *versioned) dataWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key := d.String("path")
	if err := validatePath(key); err != nil {
		return nil, err
	}
	data, ok := d.GetOk("data")
	if !ok {
		return nil, logical.InvalidRequest("no data provided")
	}
	buf, err := encodeObject(data.(map[string]any))
	if err != nil {
		return nil, err
	}
	cas, casSent, err := casOption(d)
	if err != nil {
		return nil, err
	}
	l := b.locks.forKey(key)
	l.Lock()
	defer l.Unlock()

	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	meta, err := loadMetadata(ctx, req.Storage, key)
	if err != nil {
		return nil, err
	}
	if meta == nil {
		meta = &keyMetadata{Versions: map[uint64]*versionMeta{}}
	}
	if err := checkCAS(cfg, meta, cas, casSent); err != nil {
		return nil, err
	}
	return b.commitVersion(ctx, req.Storage, key, cfg, meta, buf)
}

// dataPatch applies a JSON merge patch (RFC 7386) to the latest version and
// stores the result as a new version. The latest version must exist and be
// neither deleted nor destroyed.
func (b *versioned) dataPatch(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key := d.String("path")
	if err := validatePath(key); err != nil {
		return nil, err
	}
	patch, ok := d.GetOk("data")
	if !ok {
		return nil, logical.InvalidRequest("no data provided")
	}
	cas, casSent, err := casOption(d)
	if err != nil {
		return nil, err
	}
	l := b.locks.forKey(key)
	l.Lock()
	defer l.Unlock()

	meta, err := loadMetadata(ctx, req.Storage, key)
	if err != nil || meta == nil {
		return nil, err
	}
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if err := checkCAS(cfg, meta, cas, casSent); err != nil {
		return nil, err
	}
	n := meta.CurrentVersion
	vm := meta.Versions[n]
	if vm == nil {
		return nil, nil
	}
	if vm.gone(b.clock()) {
		return notFoundWithData(versionFields(n, vm, meta.CustomMetadata)), nil
	}
	current, err := loadVersion(ctx, req.Storage, key, n)
	if err != nil {
		return nil, err
	}
	buf, err := encodeObject(mergePatch(current, patch).(map[string]any))
	if err != nil {
		return nil, err
	}
	return b.commitVersion(ctx, req.Storage, key, cfg, meta, buf)
}

// commitVersion stores buf as the key's next version together with the
// updated metadata and the removal of pruned versions, in one transaction.
// The caller holds the key's write lock.
func (b *versioned) commitVersion(ctx context.Context, s storage.Backend, key string, cfg *mountConfig, meta *keyMetadata, buf []byte) (*logical.Response, error) {
	now := b.clock()
	del, _ := deletionTime(now, cfg.DeleteVersionAfter, meta.DeleteVersionAfter)
	vm, pruned := meta.addVersion(now, del, cfg.MaxVersions)

	metaOp, err := putOp(metadataKey(key), meta)
	if err != nil {
		return nil, err
	}
	ops := make([]storage.TxnOp, 0, 2+len(pruned))
	ops = append(ops,
		storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: versionKey(key, meta.CurrentVersion), Value: buf}},
		metaOp)
	for _, n := range pruned {
		ops = append(ops, deleteOp(versionKey(key, n)))
	}
	if err := s.Transaction(ctx, ops); err != nil {
		return nil, storageError("write version", err)
	}
	return &logical.Response{Data: versionFields(meta.CurrentVersion, vm, meta.CustomMetadata)}, nil
}

// dataDelete soft-deletes the latest version, unless it is already deleted
// or destroyed. Like Vault it answers 204 even when there was nothing to do.
func (b *versioned) dataDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return b.withMetadata(ctx, req, d, func(key string, meta *keyMetadata) (*logical.Response, error) {
		now := b.clock()
		vm := meta.Versions[meta.CurrentVersion]
		if vm == nil || vm.gone(now) {
			return noContent(), nil
		}
		vm.DeletionTime = now
		if err := saveMetadata(ctx, req.Storage, key, meta); err != nil {
			return nil, err
		}
		return noContent(), nil
	})
}
