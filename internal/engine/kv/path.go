package kv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// maxPathLen bounds a secret path, in bytes.
const maxPathLen = 4096

// validatePath checks a secret path: non-empty, at most maxPathLen bytes,
// valid UTF-8 without control characters, no empty segments (so no leading,
// trailing or doubled "/") and no "..". The path is not echoed back.
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
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f {
			return logical.InvalidRequest("path must not contain control characters")
		}
	}
	return nil
}

// listPrefix turns the path of a LIST into the storage prefix to list: ""
// for the root, otherwise the folder with exactly one trailing "/".
func listPrefix(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	folder := strings.TrimSuffix(p, "/")
	if err := validatePath(folder); err != nil {
		return "", err
	}
	return folder + "/", nil
}

// lockStripes is the number of locks writes to different paths share.
const lockStripes = 256

// keyLocks serialises operations on one path without a lock per path.
type keyLocks struct {
	seed    maphash.Seed
	stripes [lockStripes]sync.RWMutex
}

func newKeyLocks() *keyLocks {
	return &keyLocks{seed: maphash.MakeSeed()}
}

func (l *keyLocks) forKey(key string) *sync.RWMutex {
	return &l.stripes[maphash.String(l.seed, key)%lockStripes]
}

// noContent is the answer of a write that returns nothing: a 204. (A nil
// response is a 404.)
func noContent() *logical.Response { return &logical.Response{NoContent: true} }

// consumeBody marks every request field as used, for paths whose whole body
// is the secret, so the router does not warn that fields were ignored.
func consumeBody(d *logical.FieldData) {
	for k := range d.Raw {
		if _, ok := d.Schema[k]; !ok {
			delete(d.Raw, k)
		}
	}
}

// storageError classifies a storage failure for the client without
// exposing backend details.
func storageError(op string, err error) error {
	switch {
	case errors.Is(err, storage.ErrTooLarge):
		return &logical.Error{Kind: logical.KindTooLarge, Msg: "secret is too large", Err: err}
	case errors.Is(err, storage.ErrInvalidKey):
		return &logical.Error{Kind: logical.KindInvalidRequest, Msg: "invalid path", Err: err}
	}
	return fmt.Errorf("kv: %s: %w", op, err)
}

// decodeObject decodes a stored JSON object, keeping numbers exact.
func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, ErrCorruptEntry
	}
	return m, nil
}

// encodeObject encodes a secret for storage. The marshal error is not
// wrapped: it can quote a value.
func encodeObject(m map[string]any) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, logical.InvalidRequest("secret data cannot be encoded as JSON")
	}
	return b, nil
}
