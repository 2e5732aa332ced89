package kv

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// casIgnoredWarning is Vault's warning when a key asks to drop cas while
// the mount requires it.
const casIgnoredWarning = `"cas_required" set to false, but is mandated by backend config. This value will be ignored.`

// metadataPath is metadata/<path>: read, write, patch and delete a key's
// metadata, and list keys.
func (b *versioned) metadataPath() *logical.Path {
	return &logical.Path{
		Pattern: `metadata(?:/(?P<path>(?s:.*)))?`,
		Fields: map[string]*logical.Field{
			"max_versions":         {Type: logical.TypeInt, Description: "Versions to keep; the mount's setting if 0."},
			"cas_required":         {Type: logical.TypeBool, Description: "Require options.cas on every write of this key."},
			"delete_version_after": {Type: logical.TypeDuration, Description: "Time after which a new version counts as deleted; 0 clears."},
			"custom_metadata":      {Type: logical.TypeMap, Description: "Version-agnostic string key/value pairs describing the secret."},
		},
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   b.metadataRead,
			logical.CreateOperation: b.metadataWrite,
			logical.UpdateOperation: b.metadataWrite,
			logical.PatchOperation:  b.metadataPatch,
			logical.DeleteOperation: b.metadataDelete,
			logical.ListOperation:   b.metadataList,
		},
		Existence: b.metadataExists,
		Help:      "Read, write, patch and delete a key's metadata and all its versions; list keys.",
	}
}

func (b *versioned) metadataRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key := d.String("path")
	if err := validatePath(key); err != nil {
		return nil, err
	}
	meta, err := loadMetadata(ctx, req.Storage, key)
	if err != nil || meta == nil {
		return nil, err
	}
	versions := make(map[string]any, len(meta.Versions))
	for n, vm := range meta.Versions {
		versions[strconv.FormatUint(n, 10)] = map[string]any{
			"created_time":  formatTime(vm.CreatedTime),
			"deletion_time": formatTime(vm.DeletionTime),
			"destroyed":     vm.Destroyed,
		}
	}
	return &logical.Response{Data: map[string]any{
		"cas_required":         meta.CASRequired,
		"created_time":         formatTime(meta.CreatedTime),
		"current_version":      meta.CurrentVersion,
		"custom_metadata":      meta.CustomMetadata,
		"delete_version_after": meta.DeleteVersionAfter.String(),
		"max_versions":         meta.MaxVersions,
		"oldest_version":       meta.OldestVersion,
		"updated_time":         formatTime(meta.UpdatedTime),
		"versions":             versions,
	}}, nil
}

// metadataUpdate is the validated content of a metadata write or patch;
// nil pointers are fields the request left out.
type metadataUpdate struct {
	maxVersions        *uint32
	casRequired        *bool
	deleteVersionAfter *time.Duration
	// custom is applied when customSent; a nil map under patch removes all.
	custom     map[string]any
	customSent bool
}

// parseMetadataUpdate reads the fields present in the request. A field sent
// as null reads as its zero value, as in a JSON merge patch.
func parseMetadataUpdate(req *logical.Request, d *logical.FieldData) (*metadataUpdate, error) {
	u := &metadataUpdate{}
	if _, ok := req.Data["max_versions"]; ok {
		n := d.Int("max_versions")
		if n < 0 || n > math.MaxUint32 {
			return nil, logical.InvalidRequest("max_versions must be between 0 and %d", uint32(math.MaxUint32))
		}
		v := uint32(n)
		u.maxVersions = &v
	}
	if _, ok := req.Data["cas_required"]; ok {
		v := d.Bool("cas_required")
		u.casRequired = &v
	}
	if _, ok := req.Data["delete_version_after"]; ok {
		v := d.Duration("delete_version_after").Truncate(time.Second)
		u.deleteVersionAfter = &v
	}
	if _, ok := req.Data["custom_metadata"]; ok {
		u.custom = d.Map("custom_metadata")
		u.customSent = true
	}
	return u, nil
}

func (u *metadataUpdate) empty() bool {
	return u.maxVersions == nil && u.casRequired == nil && u.deleteVersionAfter == nil && !u.customSent
}

// apply sets the fields of meta the update carries. Custom metadata is
// replaced on a write and merged on a patch.
func (u *metadataUpdate) apply(meta *keyMetadata, patch bool) error {
	if u.maxVersions != nil {
		meta.MaxVersions = *u.maxVersions
	}
	if u.casRequired != nil {
		meta.CASRequired = *u.casRequired
	}
	if u.deleteVersionAfter != nil {
		meta.DeleteVersionAfter = *u.deleteVersionAfter
	}
	if !u.customSent {
		return nil
	}
	custom, err := mergeCustomMetadata(meta.CustomMetadata, u.custom, patch)
	if err != nil {
		return err
	}
	meta.CustomMetadata = custom
	return nil
}

// response is the answer to a stored update: a 204, or Vault's warning
// when the update drops cas_required on a mount that requires it.
func (u *metadataUpdate) response(cfg *mountConfig) *logical.Response {
	resp := noContent()
	if u.casRequired != nil && !*u.casRequired && cfg.CASRequired {
		resp.Warn(casIgnoredWarning)
	}
	return resp
}

// metadataWrite creates the key's metadata if needed and sets the fields the
// request carries; custom_metadata, when sent, replaces the old one.
func (b *versioned) metadataWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return b.updateMetadata(ctx, req, d, false)
}

// metadataPatch merges the request into existing metadata; a null field
// resets it and custom_metadata merges as a JSON merge patch.
func (b *versioned) metadataPatch(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return b.updateMetadata(ctx, req, d, true)
}

func (b *versioned) updateMetadata(ctx context.Context, req *logical.Request, d *logical.FieldData, patch bool) (*logical.Response, error) {
	key := d.String("path")
	if err := validatePath(key); err != nil {
		return nil, err
	}
	u, err := parseMetadataUpdate(req, d)
	if err != nil {
		return nil, err
	}
	if !patch && u.empty() {
		return noContent(), nil
	}
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	l := b.locks.forKey(key)
	l.Lock()
	defer l.Unlock()

	meta, err := loadMetadata(ctx, req.Storage, key)
	if err != nil {
		return nil, err
	}
	if meta == nil {
		if patch {
			return nil, nil
		}
		now := b.clock()
		meta = &keyMetadata{CreatedTime: now, UpdatedTime: now, Versions: map[uint64]*versionMeta{}}
	}
	if err := u.apply(meta, patch); err != nil {
		return nil, err
	}
	if err := saveMetadata(ctx, req.Storage, key, meta); err != nil {
		return nil, err
	}
	return u.response(cfg), nil
}

// metadataDelete removes the key's metadata and every version's data in one
// transaction.
func (b *versioned) metadataDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return b.withMetadata(ctx, req, d, func(key string, meta *keyMetadata) (*logical.Response, error) {
		ops := make([]storage.TxnOp, 0, len(meta.Versions)+1)
		for n := range meta.Versions {
			ops = append(ops, deleteOp(versionKey(key, n)))
		}
		ops = append(ops, deleteOp(metadataKey(key)))
		if err := req.Storage.Transaction(ctx, ops); err != nil {
			return nil, storageError("delete metadata", err)
		}
		return noContent(), nil
	})
}

// metadataList lists the keys and folders under a folder.
func (b *versioned) metadataList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	prefix, err := listPrefix(d.String("path"))
	if err != nil {
		return nil, err
	}
	keys, err := req.Storage.List(ctx, metadataPrefix+prefix)
	if err != nil {
		return nil, storageError("list", err)
	}
	return logical.ListResponse(keys), nil
}
