package kv

import (
	"context"
	"errors"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// newV1 builds the KV v1 engine: one path pattern, the secret stored as the
// request body at the path itself.
func newV1() *logical.Router {
	return logical.NewRouter(&logical.Path{
		Pattern: `(?P<path>(?s:.*))`,
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   v1Read,
			logical.CreateOperation: v1Write,
			logical.UpdateOperation: v1Write,
			logical.DeleteOperation: v1Delete,
			logical.ListOperation:   v1List,
		},
		Existence: v1Exists,
		Help:      "Pass-through secret storage: read, write, delete and list JSON objects.",
	})
}

func v1Exists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	key := d.String("path")
	if err := validatePath(key); err != nil {
		return false, err
	}
	_, err := req.Storage.Get(ctx, key)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil:
		return false, storageError("existence check", err)
	}
	return true, nil
}

func v1Read(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key := d.String("path")
	if err := validatePath(key); err != nil {
		return nil, err
	}
	e, err := req.Storage.Get(ctx, key)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, storageError("read", err)
	}
	data, err := decodeObject(e.Value)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Data: data}, nil
}

// v1Write replaces the secret with the whole request body. The body is read
// from req.Data, not the field data, so a secret key named "path" survives.
func v1Write(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key := d.String("path")
	if err := validatePath(key); err != nil {
		return nil, err
	}
	if len(req.Data) == 0 {
		return nil, logical.InvalidRequest("missing data fields")
	}
	buf, err := encodeObject(req.Data)
	if err != nil {
		return nil, err
	}
	if err := req.Storage.Put(ctx, &storage.Entry{Key: key, Value: buf}); err != nil {
		return nil, storageError("write", err)
	}
	consumeBody(d)
	return noContent(), nil
}

func v1Delete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key := d.String("path")
	if err := validatePath(key); err != nil {
		return nil, err
	}
	if err := req.Storage.Delete(ctx, key); err != nil {
		return nil, storageError("delete", err)
	}
	consumeBody(d)
	return noContent(), nil
}

func v1List(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	prefix, err := listPrefix(d.String("path"))
	if err != nil {
		return nil, err
	}
	keys, err := req.Storage.List(ctx, prefix)
	if err != nil {
		return nil, storageError("list", err)
	}
	return logical.ListResponse(keys), nil
}
