package approle

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// secretIDFields is the schema of secret-id and custom-secret-id.
func secretIDFields(custom bool) map[string]*logical.Field {
	f := map[string]*logical.Field{
		"metadata":          {Type: logical.TypeRaw, Description: "key-value metadata (JSON) attached to tokens"},
		"cidr_list":         {Type: logical.TypeStringSlice, Description: "CIDRs the secret ID may log in from"},
		"token_bound_cidrs": {Type: logical.TypeStringSlice, Description: "CIDRs issued tokens may be used from"},
		"num_uses":          {Type: logical.TypeInt, Description: "uses of the secret ID; 0 is unlimited"},
		"ttl":               {Type: logical.TypeDuration, Description: "lifetime of the secret ID; 0 is unlimited"},
	}
	if custom {
		f["secret_id"] = &logical.Field{Type: logical.TypeString, Required: true, Description: "the secret ID to register"}
	}
	return f
}

func (b *Backend) secretIDPaths() []*logical.Path {
	secretField := map[string]*logical.Field{"secret_id": {Type: logical.TypeString, Required: true}}
	accessorField := map[string]*logical.Field{"secret_id_accessor": {Type: logical.TypeString, Required: true}}
	return []*logical.Path{
		{
			Pattern: `role/` + namePattern + `/secret-id/?`,
			Fields:  secretIDFields(false),
			Operations: map[logical.Operation]logical.Handler{
				logical.UpdateOperation: b.handleGenerateSecretID,
				logical.ListOperation:   b.handleListSecretIDs,
			},
			Help: "Generate a secret ID for a role, or list its accessors.",
		},
		{
			Pattern:    `role/` + namePattern + `/custom-secret-id`,
			Fields:     secretIDFields(true),
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleCustomSecretID},
			Help:       "Register a secret ID chosen by the caller.",
		},
		{
			Pattern:    `role/` + namePattern + `/secret-id/lookup`,
			Fields:     secretField,
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleLookup(b.secretIDHash)},
			Help:       "Read a secret ID's settings.",
		},
		{
			Pattern: `role/` + namePattern + `/secret-id/destroy`,
			Fields:  secretField,
			Operations: map[logical.Operation]logical.Handler{
				logical.UpdateOperation: b.handleDestroy(b.secretIDHash),
				logical.DeleteOperation: b.handleDestroy(b.secretIDHash),
			},
			Help: "Destroy a secret ID.",
		},
		{
			Pattern:    `role/` + namePattern + `/secret-id-accessor/lookup`,
			Fields:     accessorField,
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleLookup(b.accessorHash)},
			Help:       "Read a secret ID's settings by its accessor.",
		},
		{
			Pattern: `role/` + namePattern + `/secret-id-accessor/destroy`,
			Fields:  accessorField,
			Operations: map[logical.Operation]logical.Handler{
				logical.UpdateOperation: b.handleDestroy(b.accessorHash),
				logical.DeleteOperation: b.handleDestroy(b.accessorHash),
			},
			Help: "Destroy a secret ID by its accessor.",
		},
	}
}

func (b *Backend) handleGenerateSecretID(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	secret, err := newUUID()
	if err != nil {
		return nil, err
	}
	return b.createSecretID(ctx, req, d, secret)
}

func (b *Backend) handleCustomSecretID(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	secret := d.String("secret_id")
	if secret == "" {
		return nil, logical.InvalidRequest("missing secret_id")
	}
	return b.createSecretID(ctx, req, d, secret)
}

// createSecretID registers secret for the role under the role's lock, so a
// concurrent role deletion cannot leave it behind.
func (b *Backend) createSecretID(ctx context.Context, req *logical.Request, d *logical.FieldData, secret string) (*logical.Response, error) {
	return b.lockRole(ctx, req, d, func(s storage.Backend, name string, r *role) (*logical.Response, error) {
		if r == nil {
			return nil, errNoRole(name)
		}
		if !r.BindSecretID {
			return nil, logical.InvalidRequest("bind_secret_id is not set on the role")
		}
		e, err := b.newSecretIDEntry(r, d)
		if err != nil {
			return nil, err
		}
		if err := b.storeSecretID(ctx, s, r.UID, secret, e); err != nil {
			return nil, err
		}
		return logical.DataResponse(map[string]any{
			"secret_id":          secret,
			"secret_id_accessor": e.Accessor,
			"secret_id_ttl":      int64(e.TTL.Seconds()),
			"secret_id_num_uses": e.NumUses,
		}), nil
	})
}

// newSecretIDEntry builds a secret ID's settings from the request, within
// the role's limits.
func (b *Backend) newSecretIDEntry(r *role, d *logical.FieldData) (*secretID, error) {
	meta, err := parseMetadata(d.Get("metadata"))
	if err != nil {
		return nil, logical.InvalidRequest("metadata: %v", err)
	}
	cidrs, err := parseCIDRList("cidr_list", d.Strings("cidr_list"), r.SecretIDBoundCIDRs)
	if err != nil {
		return nil, logical.InvalidRequest("%v", err)
	}
	tokenCIDRs, err := parseCIDRList("token_bound_cidrs", d.Strings("token_bound_cidrs"), r.BoundCIDRs)
	if err != nil {
		return nil, logical.InvalidRequest("%v", err)
	}
	numUses, ttl := r.SecretIDNumUses, r.SecretIDTTL
	if v, ok := d.GetOk("num_uses"); ok {
		numUses = v.(int)
		switch {
		case numUses < 0:
			return nil, logical.InvalidRequest("num_uses cannot be negative")
		case r.SecretIDNumUses > 0 && (numUses == 0 || numUses > r.SecretIDNumUses):
			return nil, logical.InvalidRequest("num_uses cannot be higher than the role's secret_id_num_uses")
		}
	}
	if v, ok := d.GetOk("ttl"); ok {
		ttl = v.(time.Duration)
		if r.SecretIDTTL > 0 && (ttl == 0 || ttl > r.SecretIDTTL) {
			return nil, logical.InvalidRequest("ttl cannot be longer than the role's secret_id_ttl")
		}
	}
	accessor, err := newUUID()
	if err != nil {
		return nil, err
	}
	now := b.now().UTC()
	e := &secretID{Accessor: accessor, NumUses: numUses, TTL: ttl, CreationTime: now, LastUpdatedTime: now,
		Metadata: meta, CIDRList: cidrs, TokenBoundCIDRs: tokenCIDRs}
	if ttl > 0 {
		e.ExpirationTime = now.Add(ttl)
	}
	return e, nil
}

// storeSecretID writes the entry and its accessor index in one
// transaction, refusing a secret ID that is already registered.
func (b *Backend) storeSecretID(ctx context.Context, s storage.Backend, uid, secret string, e *secretID) error {
	h, err := b.hash(ctx, s, labelSecretID, secret)
	if err != nil {
		return err
	}
	ah, err := b.hash(ctx, s, labelAccessor, e.Accessor)
	if err != nil {
		return err
	}
	mu := stripe(&b.secretLocks, h)
	mu.Lock()
	defer mu.Unlock()
	old, err := getSecretID(ctx, s, uid, h)
	if err != nil {
		return err
	}
	if old != nil {
		return logical.InvalidRequest("secret ID already exists")
	}
	put, err := putOp(secretIDKey(uid, h), e)
	if err != nil {
		return err
	}
	acc, err := putOp(accessorKey(uid, ah), accessorEntry{SecretIDHMAC: h})
	if err != nil {
		return err
	}
	return commit(ctx, s, put, acc)
}

// secretIDData is a secret ID's settings as lookups show them.
func secretIDData(e *secretID) map[string]any {
	meta := e.Metadata
	if meta == nil {
		meta = map[string]string{}
	}
	return map[string]any{
		"secret_id_accessor": e.Accessor,
		"secret_id_num_uses": e.NumUses,
		"secret_id_ttl":      int64(e.TTL.Seconds()),
		"creation_time":      e.CreationTime.Format(time.RFC3339Nano),
		"expiration_time":    e.ExpirationTime.Format(time.RFC3339Nano),
		"last_updated_time":  e.LastUpdatedTime.Format(time.RFC3339Nano),
		"metadata":           meta,
		"cidr_list":          prefixStrings(e.CIDRList),
		"token_bound_cidrs":  prefixStrings(e.TokenBoundCIDRs),
	}
}

// roleFor reads the path's role; a missing role is an invalid request.
func roleFor(ctx context.Context, s storage.Backend, d *logical.FieldData) (*role, error) {
	r, err := getRole(ctx, s, roleName(d))
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errNoRole(roleName(d))
	}
	return r, nil
}

// errNoRole is the invalid-request error for a role that does not exist.
func errNoRole(name string) error { return logical.InvalidRequest("role %q does not exist", name) }

// errMissing builds the error for a required field missing from a DELETE
// (the framework checks required fields on writes only).
func errMissing(field string) error { return logical.InvalidRequest("missing %s", field) }

// wrapErr adds context to a storage error.
func wrapErr(what string, err error) error { return fmt.Errorf("approle: %s: %w", what, err) }
