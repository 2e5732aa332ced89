package approle

import (
	"context"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// handleListSecretIDs lists the accessors of a role's secret IDs.
func (b *Backend) handleListSecretIDs(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s, err := storageOf(req)
	if err != nil {
		return nil, err
	}
	r, err := roleFor(ctx, s, d)
	if err != nil {
		return nil, err
	}
	hashes, err := s.List(ctx, secretIDPrefix+r.UID+"/")
	if err != nil {
		return nil, wrapErr("list secret ids", err)
	}
	var accessors []string
	for _, h := range hashes {
		e, err := getSecretID(ctx, s, r.UID, h)
		if err != nil {
			return nil, err
		}
		if e != nil {
			accessors = append(accessors, e.Accessor)
		}
	}
	return logical.ListResponse(accessors), nil
}

// roleAndField returns the path's role and the request's field, which
// must be set.
func roleAndField(ctx context.Context, s storage.Backend, d *logical.FieldData, field string) (*role, string, error) {
	v := d.String(field)
	if v == "" {
		return nil, "", errMissing(field)
	}
	r, err := roleFor(ctx, s, d)
	return r, v, err
}

// secretIDHash returns the role and HMAC for the request's secret_id.
func (b *Backend) secretIDHash(ctx context.Context, s storage.Backend, d *logical.FieldData) (*role, string, error) {
	r, secret, err := roleAndField(ctx, s, d, "secret_id")
	if err != nil {
		return nil, "", err
	}
	h, err := b.hash(ctx, s, labelSecretID, secret)
	return r, h, err
}

// accessorHash returns the role and secret ID HMAC for the request's
// secret_id_accessor, or an invalid-request error if it is unknown.
func (b *Backend) accessorHash(ctx context.Context, s storage.Backend, d *logical.FieldData) (*role, string, error) {
	r, accessor, err := roleAndField(ctx, s, d, "secret_id_accessor")
	if err != nil {
		return nil, "", err
	}
	ah, err := b.hash(ctx, s, labelAccessor, accessor)
	if err != nil {
		return nil, "", err
	}
	var a accessorEntry
	found, err := getJSON(ctx, s, accessorKey(r.UID, ah), &a)
	if err != nil {
		return nil, "", err
	}
	if !found || strings.ContainsAny(a.SecretIDHMAC, "/.") {
		return nil, "", logical.InvalidRequest("failed to find accessor entry for secret_id_accessor: %q", accessor)
	}
	return r, a.SecretIDHMAC, nil
}

// lookup reads a live secret ID entry; an expired one reads as absent.
func (b *Backend) lookup(ctx context.Context, s storage.Backend, r *role, h string) (*logical.Response, error) {
	e, err := getSecretID(ctx, s, r.UID, h)
	if err != nil || e == nil || e.expired(b.now()) {
		return nil, err
	}
	return logical.DataResponse(secretIDData(e)), nil
}

// secretIDFinder finds the role and HMAC of the secret ID a request
// names: secretIDHash by its value, accessorHash by its accessor.
type secretIDFinder func(ctx context.Context, s storage.Backend, d *logical.FieldData) (*role, string, error)

// handleLookup serves secret-id/lookup and secret-id-accessor/lookup.
func (b *Backend) handleLookup(find secretIDFinder) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		s, err := storageOf(req)
		if err != nil {
			return nil, err
		}
		r, h, err := find(ctx, s, d)
		if err != nil {
			return nil, err
		}
		return b.lookup(ctx, s, r, h)
	}
}

// destroy deletes a secret ID entry and its accessor under the secret ID's
// lock; destroying an absent one succeeds.
func (b *Backend) destroy(ctx context.Context, s storage.Backend, uid, h string) error {
	mu := stripe(&b.secretLocks, h)
	mu.Lock()
	defer mu.Unlock()
	e, err := getSecretID(ctx, s, uid, h)
	if err != nil || e == nil {
		return err
	}
	return b.deleteSecretID(ctx, s, uid, h, e)
}

// deleteSecretID removes entry e (HMAC h) and its accessor. Callers hold
// the secret ID's lock.
func (b *Backend) deleteSecretID(ctx context.Context, s storage.Backend, uid, h string, e *secretID) error {
	ah, err := b.hash(ctx, s, labelAccessor, e.Accessor)
	if err != nil {
		return err
	}
	return commit(ctx, s, deleteOp(secretIDKey(uid, h)), deleteOp(accessorKey(uid, ah)))
}

// handleDestroy serves secret-id/destroy and secret-id-accessor/destroy.
func (b *Backend) handleDestroy(find secretIDFinder) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		s, err := storageOf(req)
		if err != nil {
			return nil, err
		}
		r, h, err := find(ctx, s, d)
		if err != nil {
			return nil, err
		}
		if err := b.destroy(ctx, s, r.UID, h); err != nil {
			return nil, err
		}
		return &logical.Response{NoContent: true}, nil
	}
}
