package approle

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/auth/tokenutil"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// roleFields is the schema of role/<name>.
func roleFields() map[string]*logical.Field {
	return tokenutil.AddFields(map[string]*logical.Field{
		"bind_secret_id":        {Type: logical.TypeBool, Default: true, Description: "require a secret ID at login"},
		"secret_id_bound_cidrs": {Type: logical.TypeStringSlice, Description: "CIDRs a secret ID may log in from"},
		"bound_cidr_list":       {Type: logical.TypeStringSlice, Description: "deprecated spelling of secret_id_bound_cidrs"},
		"secret_id_num_uses":    {Type: logical.TypeInt, Description: "default number of uses of a secret ID; 0 is unlimited"},
		"secret_id_ttl":         {Type: logical.TypeDuration, Description: "default lifetime of a secret ID; 0 is unlimited"},
		"local_secret_ids":      {Type: logical.TypeBool, Description: "secret IDs are local to the cluster (set at creation only)"},
		"role_id":               {Type: logical.TypeString, Description: "custom role ID; generated when absent"},
	})
}

func (b *Backend) rolePaths() []*logical.Path {
	return []*logical.Path{
		{
			Pattern:    `role/?`,
			Operations: map[logical.Operation]logical.Handler{logical.ListOperation: b.handleListRoles},
			Help:       "List the roles.",
		},
		{
			Pattern: `role/` + namePattern,
			Fields:  roleFields(),
			Operations: map[logical.Operation]logical.Handler{
				logical.CreateOperation: b.handleWriteRole,
				logical.UpdateOperation: b.handleWriteRole,
				logical.ReadOperation:   b.handleReadRole,
				logical.DeleteOperation: b.handleDeleteRole,
			},
			Existence: b.roleExists,
			Help:      "Create, update, read or delete a role.",
		},
		{
			Pattern: `role/` + namePattern + `/role-id`,
			Fields:  map[string]*logical.Field{"role_id": {Type: logical.TypeString, Required: true}},
			Operations: map[logical.Operation]logical.Handler{
				logical.ReadOperation:   b.handleReadRoleID,
				logical.UpdateOperation: b.handleWriteRoleID,
			},
			Help: "Read a role's role ID, or set a custom one.",
		},
	}
}

// roleName returns the path's role name, lowercased as in Vault.
func roleName(d *logical.FieldData) string { return strings.ToLower(d.String("role_name")) }

// opt returns a field the client sent, and false for fields the path does
// not declare (the per-field sub-paths declare only their own).
func opt(d *logical.FieldData, name string) (any, bool) {
	if _, ok := d.Schema[name]; !ok {
		return nil, false
	}
	return d.GetOk(name)
}

// storedRole reads the role the path names; nil if there is none.
func storedRole(ctx context.Context, req *logical.Request, d *logical.FieldData) (*role, error) {
	s, err := storageOf(req)
	if err != nil {
		return nil, err
	}
	return getRole(ctx, s, roleName(d))
}

// lockRole runs fn with the role the path names (nil if there is none)
// under that role's lock, so changes to one role are serialised.
func (b *Backend) lockRole(ctx context.Context, req *logical.Request, d *logical.FieldData,
	fn func(s storage.Backend, name string, r *role) (*logical.Response, error)) (*logical.Response, error) {
	s, err := storageOf(req)
	if err != nil {
		return nil, err
	}
	name := roleName(d)
	mu := stripe(&b.roleLocks, name)
	mu.Lock()
	defer mu.Unlock()
	r, err := getRole(ctx, s, name)
	if err != nil {
		return nil, err
	}
	return fn(s, name, r)
}

func (b *Backend) roleExists(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
	r, err := storedRole(ctx, req, d)
	return r != nil, err
}

func (b *Backend) handleListRoles(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	s, err := storageOf(req)
	if err != nil {
		return nil, err
	}
	names, err := s.List(ctx, rolePrefix)
	if err != nil {
		return nil, fmt.Errorf("approle: list roles: %w", err)
	}
	return logical.ListResponse(names), nil
}

func (b *Backend) handleReadRole(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, err := storedRole(ctx, req, d)
	if err != nil || r == nil {
		return nil, err
	}
	return logical.DataResponse(roleData(r)), nil
}

// roleData is a role as a read shows it (Vault's fields; durations in
// seconds). The role ID is not included: it has its own path.
func roleData(r *role) map[string]any {
	data := r.Params.Data(map[string]any{
		"bind_secret_id":        r.BindSecretID,
		"secret_id_bound_cidrs": prefixStrings(r.SecretIDBoundCIDRs),
		"secret_id_num_uses":    r.SecretIDNumUses,
		"secret_id_ttl":         int64(r.SecretIDTTL.Seconds()),
		"local_secret_ids":      r.LocalSecretIDs,
	})
	if r.Period > 0 {
		data["period"] = data["token_period"]
	}
	if len(r.Policies) > 0 {
		data["policies"] = data["token_policies"]
	}
	return data
}

// handleWriteRole creates a role or updates the fields the client sent.
func (b *Backend) handleWriteRole(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return b.lockRole(ctx, req, d, func(s storage.Backend, name string, r *role) (*logical.Response, error) {
		creating := r == nil
		if creating {
			uid, err := newUUID()
			if err != nil {
				return nil, err
			}
			r = &role{Name: name, UID: uid, BindSecretID: true}
		}
		if err := applyRoleFields(r, d, creating); err != nil {
			return nil, err
		}
		if err := b.saveRole(ctx, s, r, creating, d.String("role_id")); err != nil {
			return nil, err
		}
		return &logical.Response{NoContent: true}, nil
	})
}

// saveRole validates r and stores it, with its role-id index. newRoleID,
// when not empty, replaces the role ID; a new role without one gets a
// random one.
func (b *Backend) saveRole(ctx context.Context, s storage.Backend, r *role, creating bool, newRoleID string) error {
	if !r.BindSecretID && len(r.SecretIDBoundCIDRs) == 0 && len(r.BoundCIDRs) == 0 {
		return logical.InvalidRequest("at least one constraint should be enabled on the role")
	}
	oldRoleID := r.RoleID
	if creating {
		oldRoleID = ""
	}
	if newRoleID == "" && r.RoleID == "" {
		id, err := newUUID()
		if err != nil {
			return err
		}
		newRoleID = id
	}
	ops := []storage.TxnOp{}
	b.roleIDMu.Lock()
	defer b.roleIDMu.Unlock()
	if newRoleID != "" && newRoleID != oldRoleID {
		op, err := b.claimRoleID(ctx, s, r.Name, oldRoleID, newRoleID)
		if err != nil {
			return err
		}
		ops = append(ops, op...)
		r.RoleID = newRoleID
	}
	op, err := putOp(rolePrefix+r.Name, r)
	if err != nil {
		return err
	}
	return commit(ctx, s, append(ops, op)...)
}

// claimRoleID checks newID is free and returns the operations moving the
// role's index entry from oldID (if any) to newID. Callers hold roleIDMu.
func (b *Backend) claimRoleID(ctx context.Context, s storage.Backend, name, oldID, newID string) ([]storage.TxnOp, error) {
	h, err := b.hash(ctx, s, labelRoleID, newID)
	if err != nil {
		return nil, err
	}
	var owner roleIDEntry
	found, err := getJSON(ctx, s, roleIDPrefix+h, &owner)
	if err != nil {
		return nil, err
	}
	if found && owner.Name != name {
		return nil, logical.InvalidRequest("role_id already in use")
	}
	put, err := putOp(roleIDPrefix+h, roleIDEntry{Name: name})
	if err != nil {
		return nil, err
	}
	ops := []storage.TxnOp{put}
	if oldID != "" {
		oh, err := b.hash(ctx, s, labelRoleID, oldID)
		if err != nil {
			return nil, err
		}
		ops = append(ops, deleteOp(roleIDPrefix+oh))
	}
	return ops, nil
}

// applyRoleFields applies the role fields the client sent to r.
func applyRoleFields(r *role, d *logical.FieldData, creating bool) error {
	if v, ok := opt(d, "bind_secret_id"); ok {
		r.BindSecretID = v.(bool)
	}
	if err := applyCIDRField(&r.SecretIDBoundCIDRs, d, "secret_id_bound_cidrs", "bound_cidr_list"); err != nil {
		return err
	}
	if v, ok := opt(d, "secret_id_num_uses"); ok {
		if v.(int) < 0 {
			return logical.InvalidRequest("secret_id_num_uses cannot be negative")
		}
		r.SecretIDNumUses = v.(int)
	}
	if v, ok := opt(d, "secret_id_ttl"); ok {
		r.SecretIDTTL = v.(time.Duration)
	}
	if v, ok := opt(d, "local_secret_ids"); ok && v.(bool) != r.LocalSecretIDs {
		if !creating {
			return logical.InvalidRequest("local_secret_ids can only be modified during role creation")
		}
		r.LocalSecretIDs = v.(bool)
	}
	return r.Params.Parse(d)
}

// applyCIDRField parses the first of names the client sent into dst.
func applyCIDRField(dst *[]netip.Prefix, d *logical.FieldData, names ...string) error {
	for _, n := range names {
		v, ok := opt(d, n)
		if !ok {
			continue
		}
		cidrs, err := tokenutil.ParseCIDRs(v.([]string))
		if err != nil {
			return logical.InvalidRequest("%s: %v", n, err)
		}
		*dst = cidrs
		return nil
	}
	return nil
}

func (b *Backend) handleDeleteRole(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return b.lockRole(ctx, req, d, func(s storage.Backend, name string, r *role) (*logical.Response, error) {
		if r == nil {
			return &logical.Response{NoContent: true}, nil
		}
		h, err := b.hash(ctx, s, labelRoleID, r.RoleID)
		if err != nil {
			return nil, err
		}
		b.roleIDMu.Lock()
		err = commit(ctx, s, deleteOp(rolePrefix+name), deleteOp(roleIDPrefix+h))
		b.roleIDMu.Unlock()
		if err != nil {
			return nil, err
		}
		// The role is gone, so its secret IDs are unreachable already; a
		// failure here leaves garbage for tidy, not live credentials.
		if err := deleteRoleSecrets(ctx, s, r.UID); err != nil {
			return nil, err
		}
		return &logical.Response{NoContent: true}, nil
	})
}

// deleteRoleSecrets removes every secret ID and accessor of a role uid.
func deleteRoleSecrets(ctx context.Context, s storage.Backend, uid string) error {
	if err := storage.DeletePrefix(ctx, s, secretIDPrefix+uid+"/"); err != nil {
		return fmt.Errorf("approle: delete secret ids: %w", err)
	}
	if err := storage.DeletePrefix(ctx, s, accessorPrefix+uid+"/"); err != nil {
		return fmt.Errorf("approle: delete accessors: %w", err)
	}
	return nil
}

func (b *Backend) handleReadRoleID(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, err := storedRole(ctx, req, d)
	if err != nil || r == nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"role_id": r.RoleID}), nil
}

func (b *Backend) handleWriteRoleID(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	id := d.String("role_id")
	if id == "" {
		return nil, logical.InvalidRequest("missing role_id")
	}
	return b.updateRole(ctx, req, d, func(r *role) (string, error) { return id, nil })
}

// updateRole applies change to an existing role under its lock and saves
// it; change returns a new role ID or "".
func (b *Backend) updateRole(ctx context.Context, req *logical.Request, d *logical.FieldData, change func(*role) (string, error)) (*logical.Response, error) {
	return b.lockRole(ctx, req, d, func(s storage.Backend, name string, r *role) (*logical.Response, error) {
		if r == nil {
			return nil, errNoRole(name)
		}
		newID, err := change(r)
		if err != nil {
			return nil, err
		}
		if err := b.saveRole(ctx, s, r, false, newID); err != nil {
			return nil, err
		}
		return &logical.Response{NoContent: true}, nil
	})
}

// prefixStrings formats CIDRs as strings, never nil (Vault shows []).
func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}
