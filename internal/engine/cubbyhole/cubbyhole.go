// Package cubbyhole implements the cubbyhole secrets engine: storage private
// to one token, with KV v1's read, write, delete and list.
//
// Every key is stored under Prefix(CubbyholeID) of the calling token, so two
// tokens never see each other's data, and revoking a token can erase its
// cubbyhole with one prefix delete.
package cubbyhole

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

var (
	// ErrNilConfig is returned by Factory when it gets no BackendConfig.
	ErrNilConfig = errors.New("cubbyhole: nil backend config")
	// ErrCorruptEntry is returned when a stored entry does not decode.
	ErrCorruptEntry = errors.New("cubbyhole: stored entry is corrupt")
)

// maxPathLen bounds a path inside a cubbyhole, in bytes.
const maxPathLen = 4096

// Prefix is the storage prefix holding the cubbyhole of the token with the
// given cubbyhole id.
func Prefix(cubbyholeID string) string { return cubbyholeID + "/" }

// Factory builds the cubbyhole engine.
func Factory(_ context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	if conf == nil {
		return nil, ErrNilConfig
	}
	return logical.NewRouter(&logical.Path{
		Pattern: `(?P<path>(?s:.*))`,
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   handleRead,
			logical.CreateOperation: handleWrite,
			logical.UpdateOperation: handleWrite,
			logical.DeleteOperation: handleDelete,
			logical.ListOperation:   handleList,
		},
		Existence: handleExists,
		Help:      "Token-private secret storage: read, write, delete and list JSON objects.",
	}), nil
}

// storageKey maps a request path to its key in the caller's cubbyhole.
func storageKey(req *logical.Request, path string) (string, error) {
	prefix, err := callerPrefix(req)
	if err != nil {
		return "", err
	}
	if err := validatePath(path); err != nil {
		return "", err
	}
	return prefix + path, nil
}

// callerPrefix is the caller's cubbyhole prefix. An id that is empty or
// could reach outside its own prefix is refused.
func callerPrefix(req *logical.Request) (string, error) {
	if req.Caller == nil || req.Caller.CubbyholeID == "" {
		return "", logical.Errorf(logical.KindPermissionDenied, "cubbyhole requires a token")
	}
	id := req.Caller.CubbyholeID
	if strings.Contains(id, "/") || strings.Contains(id, "..") {
		return "", logical.Errorf(logical.KindPermissionDenied, "invalid cubbyhole id")
	}
	return Prefix(id), nil
}

// validatePath applies KV's path rules: non-empty, bounded, valid UTF-8, no
// control characters, no empty segments, no "..".
func validatePath(p string) error {
	switch {
	case p == "":
		return logical.InvalidRequest("missing path")
	case len(p) > maxPathLen:
		return logical.InvalidRequest("path is longer than %d bytes", maxPathLen)
	case !utf8.ValidString(p):
		return logical.InvalidRequest("path is not valid UTF-8")
	case strings.Contains(p, ".."):
		return logical.InvalidRequest(`path must not contain ".."`)
	case strings.HasPrefix(p, "/"), strings.HasSuffix(p, "/"), strings.Contains(p, "//"):
		return logical.InvalidRequest("path must not contain empty segments")
	case strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return logical.InvalidRequest("path must not contain control characters")
	}
	return nil
}

// noContent is the answer of a write or delete: a 204. (A nil response is
// a 404.)
func noContent() *logical.Response { return &logical.Response{NoContent: true} }

// consumeBody marks every request field as used: the whole body is the
// secret, so the router must not warn that fields were ignored.
func consumeBody(d *logical.FieldData) {
	for k := range d.Raw {
		if _, ok := d.Schema[k]; !ok {
			delete(d.Raw, k)
		}
	}
}

func storageError(op string, err error) error {
	if errors.Is(err, storage.ErrTooLarge) {
		return &logical.Error{Kind: logical.KindTooLarge, Msg: "secret is too large", Err: err}
	}
	return fmt.Errorf("cubbyhole: %s: %w", op, err)
}

func handleExists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	key, err := storageKey(req, d.String("path"))
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

func handleRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key, err := storageKey(req, d.String("path"))
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
	var data map[string]any
	dec := json.NewDecoder(bytes.NewReader(e.Value))
	dec.UseNumber()
	if dec.Decode(&data) != nil || data == nil {
		return nil, ErrCorruptEntry
	}
	return &logical.Response{Data: data}, nil
}

// handleWrite replaces the secret with the whole request body (req.Data, so
// a key named "path" survives).
func handleWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key, err := storageKey(req, d.String("path"))
	if err != nil {
		return nil, err
	}
	if len(req.Data) == 0 {
		return nil, logical.InvalidRequest("missing data fields")
	}
	buf, err := json.Marshal(req.Data)
	if err != nil {
		return nil, logical.InvalidRequest("secret data cannot be encoded as JSON")
	}
	if err := req.Storage.Put(ctx, &storage.Entry{Key: key, Value: buf}); err != nil {
		return nil, storageError("write", err)
	}
	consumeBody(d)
	return noContent(), nil
}

func handleDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	key, err := storageKey(req, d.String("path"))
	if err != nil {
		return nil, err
	}
	if err := req.Storage.Delete(ctx, key); err != nil {
		return nil, storageError("delete", err)
	}
	consumeBody(d)
	return noContent(), nil
}

// handleList lists a folder of the caller's cubbyhole; "" is its root.
func handleList(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	prefix, err := callerPrefix(req)
	if err != nil {
		return nil, err
	}
	if p := strings.TrimSuffix(d.String("path"), "/"); p != "" {
		if err := validatePath(p); err != nil {
			return nil, err
		}
		prefix += p + "/"
	}
	keys, err := req.Storage.List(ctx, prefix)
	if err != nil {
		return nil, storageError("list", err)
	}
	return logical.ListResponse(keys), nil
}
