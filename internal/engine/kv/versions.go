package kv

import (
	"context"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// versionAction changes the metadata of the listed versions of key and
// returns any extra storage operations (destroy deletes data). changed
// reports whether anything needs writing.
type versionAction func(ctx context.Context, req *logical.Request, key string, meta *keyMetadata, versions []uint64, now time.Time) (ops []storage.TxnOp, changed bool, err error)

// versionsPath builds delete/, undelete/ and destroy/: POST {"versions": [...]}
// on <verb>/<path>, applying act under the key's lock and writing the
// metadata together with act's operations in one transaction.
func (b *versioned) versionsPath(verb, help, desc string, act versionAction) *logical.Path {
	return &logical.Path{
		Pattern: verb + `/(?P<path>(?s:.+))`,
		Fields: map[string]*logical.Field{
			"versions": {Type: logical.TypeStringSlice, Description: desc},
		},
		Operations: map[logical.Operation]logical.Handler{
			logical.UpdateOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				return b.applyToVersions(ctx, req, d, verb, act)
			},
		},
		Help: help,
	}
}

func (b *versioned) applyToVersions(ctx context.Context, req *logical.Request, d *logical.FieldData, verb string, act versionAction) (*logical.Response, error) {
	versions, err := parseVersions(d)
	if err != nil {
		return nil, err
	}
	return b.withMetadata(ctx, req, d, func(key string, meta *keyMetadata) (*logical.Response, error) {
		ops, changed, err := act(ctx, req, key, meta, versions, b.clock())
		if err != nil || !changed {
			return noContent(), err
		}
		metaOp, err := putOp(metadataKey(key), meta)
		if err != nil {
			return nil, err
		}
		if err := req.Storage.Transaction(ctx, append(ops, metaOp)); err != nil {
			return nil, storageError(verb+" versions", err)
		}
		return noContent(), nil
	})
}

// withMetadata validates the request's path, holds the key's lock and
// loads its metadata for fn. A key without metadata answers 204 without
// calling fn, as Vault does for deletes of missing keys.
func (b *versioned) withMetadata(ctx context.Context, req *logical.Request, d *logical.FieldData,
	fn func(key string, meta *keyMetadata) (*logical.Response, error)) (*logical.Response, error) {
	key := d.String("path")
	if err := validatePath(key); err != nil {
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
		return noContent(), nil
	}
	return fn(key, meta)
}
