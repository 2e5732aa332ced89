// Package authutil holds the small pieces of logic that several auth
// methods share: defaults for their dependencies, JSON entries in their
// storage, list and existence handlers for named entries, and the "*" glob
// of Vault's bound_* and allowed_* settings.
package authutil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// Logger returns l, or a logger that discards everything when l is nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// Clock returns now, or time.Now when now is nil.
func Clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// GetJSON decodes the entry at key into v and reports whether it exists.
// A storage failure is wrapped as "<method>: read <key>: ..."; a value that
// does not decode is reported as corrupt (wrapped with the key) without the
// decoder's message, which could quote stored secrets.
func GetJSON(ctx context.Context, s storage.Backend, method, key string, v any, corrupt error) (bool, error) {
	e, err := s.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: read %s: %w", method, key, err)
	}
	if json.Unmarshal(e.Value, v) != nil {
		return false, fmt.Errorf("%w: %s", corrupt, key)
	}
	return true, nil
}

// PutJSON encodes v and stores it at key; errors are wrapped as
// "<method>: encode|write <key>: ...".
func PutJSON(ctx context.Context, s storage.Backend, method, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: encode %s: %w", method, key, err)
	}
	if err := s.Put(ctx, &storage.Entry{Key: key, Value: raw}); err != nil {
		return fmt.Errorf("%s: write %s: %w", method, key, err)
	}
	return nil
}

// ListHandler returns a handler answering LIST with the keys stored under
// prefix. what starts its errors ("jwt: list roles").
func ListHandler(what, prefix string) logical.Handler {
	return func(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
		keys, err := req.Storage.List(ctx, prefix)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return logical.ListResponse(keys), nil
	}
}

// ExistsByName returns a path's existence check: whether load finds the
// entry that the path's "name" field names.
func ExistsByName[T any](load func(ctx context.Context, s storage.Backend, name string) (*T, error)) logical.ExistenceFunc {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
		e, err := load(ctx, req.Storage, d.String("name"))
		return e != nil, err
	}
}

// NonNil returns s, or an empty slice when s is nil, so that a read shows
// [] rather than null, as Vault does.
func NonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Glob reports whether s matches pattern, where '*' matches any run of
// characters (including none and '/') and every other character matches
// itself. A pattern without '*' (the empty one too) matches only itself.
func Glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	// The first part anchors at the start, the last at the end; the middle
	// parts are taken leftmost-first, which finds a match if any exists.
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	rest := s[len(parts[0]):]
	last := len(parts) - 1
	for _, p := range parts[1:last] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return strings.HasSuffix(rest, parts[last])
}
