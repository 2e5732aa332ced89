package token

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// Messages clients see, as Vault words them.
const (
	msgBadToken        = "bad token"
	msgInvalidAccessor = "invalid accessor"
	msgMissingToken    = "missing token ID"
	msgMissingAccessor = "missing accessor"
	msgTokenNotFound   = "token not found"
)

// backend serves the auth/token/ API over a Store.
type backend struct {
	*logical.Router
	store *Store
	// roleMu serialises read-modify-write of token roles.
	roleMu sync.Mutex
}

// NewBackend returns the auth/token/ API over s, for the core to mount at
// auth/token/. The core must keep req.ClientToken (the caller's raw token)
// for this backend, set req.Caller on every request, and set Caller.Sudo when
// the caller's ACL grants sudo on the request path. Token roles live in
// req.Storage, the mount's own storage. The backend is a
// logical.AuthRenewer: the core asks it before renewing a token it made.
func NewBackend(s *Store) logical.Backend {
	b := &backend{store: s}
	var paths []*logical.Path
	paths = append(paths, b.createPaths()...)
	paths = append(paths, b.rolePaths()...)
	paths = append(paths, b.lookupPaths()...)
	paths = append(paths, b.renewPaths()...)
	paths = append(paths, b.revokePaths()...)
	paths = append(paths, b.accessorsPath(), b.tidyPath())
	b.Router = logical.NewRouter(paths...)
	return b
}

// callerEntry returns the entry and raw token of the request's caller. raw
// is "" when the core did not pass the token and the entry was found by the
// caller's accessor. allowRevoked admits a token whose last use is being
// served.
func (b *backend) callerEntry(ctx context.Context, req *logical.Request, allowRevoked bool) (*Entry, string, error) {
	if req.ClientToken != "" {
		e, err := b.store.lookupRaw(ctx, req.ClientToken, allowRevoked)
		return e, req.ClientToken, err
	}
	if req.Caller != nil && req.Caller.Accessor != "" {
		e, err := b.store.lookupAccessor(ctx, req.Caller.Accessor, allowRevoked)
		return e, "", err
	}
	return nil, "", ErrInvalidToken
}

// lookupRaw finds the entry of a raw token given in a request body.
func (b *backend) lookupRaw(ctx context.Context, raw string, allowRevoked bool) (*Entry, error) {
	return b.store.lookupRaw(ctx, raw, allowRevoked)
}

// requireCaller rejects requests the core did not authenticate.
func requireCaller(req *logical.Request) error {
	if req.Caller == nil {
		return logical.ErrPermissionDenied
	}
	return nil
}

// isSudo reports whether the caller holds root or sudo on the request path.
func isSudo(req *logical.Request) bool {
	return req.Caller != nil && (req.Caller.Root || req.Caller.Sudo)
}

// requireSudo guards the paths Vault marks root-protected.
func requireSudo(req *logical.Request) error {
	if !isSudo(req) {
		return logical.ErrPermissionDenied
	}
	return nil
}

// notFound maps ErrInvalidToken to msg with kind, and any other error to an
// internal one.
func notFound(err error, kind logical.Kind, msg string) error {
	if errors.Is(err, ErrInvalidToken) {
		return logical.Errorf(kind, "%s", msg)
	}
	return internal(err)
}

// internal wraps an unexpected error; clients see a generic message.
func internal(err error) error {
	return &logical.Error{Kind: logical.KindInternal, Msg: "internal error", Err: err}
}

// storeError maps the Store's sentinels to client errors.
func storeError(err error) error {
	var answer *logical.Error
	if errors.As(err, &answer) {
		return err // already the client's answer: an auth method refused a renewal
	}
	for _, m := range []struct {
		target error
		kind   logical.Kind
		msg    string
	}{
		{ErrNotRenewable, logical.KindInvalidRequest, "lease is not renewable"},
		{ErrPastMaxTTL, logical.KindInvalidRequest, "past the max TTL, cannot renew"},
		{ErrRestrictedParent, logical.KindInvalidRequest, "restricted use token cannot generate child tokens"},
		{ErrNonExpiringChild, logical.KindInvalidRequest, "expiring root tokens cannot create non-expiring root tokens"},
		{ErrParentInvalid, logical.KindInvalidRequest, "parent token lookup failed: no parent found"},
		{ErrInvalidParams, logical.KindInvalidRequest, "invalid token parameters"},
		{ErrBatchToken, logical.KindInvalidRequest, "not supported for batch tokens"},
		{ErrBatchUnavailable, logical.KindInvalidRequest, "batch tokens are not enabled on this server"},
		{ErrInvalidToken, logical.KindInvalidRequest, msgTokenNotFound},
	} {
		if errors.Is(err, m.target) {
			return &logical.Error{Kind: m.kind, Msg: m.msg, Err: err}
		}
	}
	return internal(err)
}

// remaining is the time left on e, rounded to the second; 0 if it never
// expires.
func (b *backend) remaining(e *Entry) time.Duration {
	if !e.expires() {
		return 0
	}
	return max(e.ExpireTime.Sub(b.store.now()).Round(time.Second), 0)
}

// authResponse is the auth block Vault returns from create and renew.
func authResponse(raw string, e *Entry, ttl time.Duration) *logical.Response {
	return &logical.Response{Auth: &logical.Auth{
		ClientToken:   raw,
		Accessor:      e.Accessor,
		Policies:      e.Policies,
		TokenPolicies: e.Policies,
		Metadata:      e.Meta,
		TTL:           ttl,
		Renewable:     e.Renewable && e.expires(),
		EntityID:      e.EntityID,
		TokenType:     e.Type,
		Orphan:        e.Parent == "",
		NumUses:       e.NumUses,
	}}
}

// lookupData is the data block of Vault's token lookups. id is the raw token
// where the caller supplied it, "" otherwise.
func (b *backend) lookupData(e *Entry, id string) map[string]any {
	data := map[string]any{
		"accessor":         e.Accessor,
		"creation_time":    e.CreationTime.Unix(),
		"creation_ttl":     seconds(e.TTL),
		"display_name":     e.DisplayName,
		"entity_id":        e.EntityID,
		"expire_time":      nil,
		"explicit_max_ttl": seconds(e.ExplicitMaxTTL),
		"id":               id,
		"meta":             e.Meta,
		"num_uses":         e.NumUses,
		"orphan":           e.Parent == "",
		"path":             e.Path,
		"policies":         e.Policies,
		"ttl":              int64(0),
		"type":             e.Type,
	}
	if role := e.role(); role != "" {
		data["role"] = role
	}
	if e.Period != 0 {
		data["period"] = seconds(e.Period)
	}
	if len(e.BoundCIDRs) > 0 {
		data["bound_cidrs"] = cidrStrings(e)
	}
	if e.expires() {
		data["expire_time"] = e.ExpireTime.UTC().Format(time.RFC3339Nano)
		data["ttl"] = seconds(b.remaining(e))
		data["renewable"] = e.Renewable
		data["issue_time"] = e.CreationTime.UTC().Format(time.RFC3339Nano)
	}
	return data
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

// cidrStrings renders bound CIDRs as Vault does: single hosts as bare
// addresses, other prefixes in CIDR notation.
func cidrStrings(e *Entry) []string {
	out := make([]string, 0, len(e.BoundCIDRs))
	for _, p := range e.BoundCIDRs {
		if p.IsSingleIP() {
			out = append(out, p.Addr().String())
			continue
		}
		out = append(out, p.String())
	}
	return out
}

// noContent is the 204 Vault answers to revocations.
func noContent() *logical.Response { return &logical.Response{NoContent: true} }

// errorf is a shorthand for a 400 with a formatted message.
func errorf(format string, args ...any) error {
	return logical.InvalidRequest(format, args...)
}
