package kv

import (
	"context"
	"errors"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// KeyPrefixFunc gives the storage prefix a request's keys live under ("" for
// KV v1; the caller's own prefix for cubbyhole). An error refuses the request.
type KeyPrefixFunc func(req *logical.Request) (string, error)

// flat is KV v1: the secret stored as the request body at the path itself,
// under a per-request key prefix.
type flat struct {
	prefix KeyPrefixFunc
}

// newV1 builds the KV v1 engine.
func newV1() *logical.Router {
	return NewFlat(func(*logical.Request) (string, error) { return "", nil },
		"Pass-through secret storage: read, write, delete and list JSON objects.")
}

// NewFlat builds a KV v1-style engine whose keys live under prefix(req).
// Cubbyhole is this engine with the caller's private prefix.
func NewFlat(prefix KeyPrefixFunc, help string) *logical.Router {
	f := &flat{prefix: prefix}
	return logical.NewRouter(&logical.Path{
		Pattern: `(?P<path>(?s:.*))`,
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   f.read,
			logical.CreateOperation: f.write,
			logical.UpdateOperation: f.write,
			logical.DeleteOperation: f.delete,
			logical.ListOperation:   f.list,
		},
		Existence: f.exists,
		Help:      help,
	})
}

// key maps the request's path to its storage key.
func (f *flat) key(req *logical.Request, d *logical.FieldData) (string, error) {
	prefix, err := f.prefix(req)
	if err != nil {
		return "", err
	}
	p := d.String("path")
	if err := validatePath(p); err != nil {
		return "", err
	}
	return prefix + p, nil
}

func (f *flat) exists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	key, err := f.key(req, d)
	if err != nil {
		return false, err
	}
	_, err = req.Storage.Get(ctx, key)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil:
		return false, storageError("existence check", err)
	}
	return true, nil
}

func (f *flat) read(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key, err := f.key(req, d)
	if err != nil {
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

// write replaces the secret with the whole request body. The body is read
// from req.Data, not the field data, so a secret key named "path" survives.
func (f *flat) write(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key, err := f.key(req, d)
	if err != nil {
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

func (f *flat) delete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key, err := f.key(req, d)
	if err != nil {
		return nil, err
	}
	if err := req.Storage.Delete(ctx, key); err != nil {
		return nil, storageError("delete", err)
	}
	consumeBody(d)
	return noContent(), nil
}

func (f *flat) list(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	base, err := f.prefix(req)
	if err != nil {
		return nil, err
	}
	prefix, err := listPrefix(d.String("path"))
	if err != nil {
		return nil, err
	}
	prefix = base + prefix
	keys, err := req.Storage.List(ctx, prefix)
	if err != nil {
		return nil, storageError("list", err)
	}
	return logical.ListResponse(keys), nil
}
