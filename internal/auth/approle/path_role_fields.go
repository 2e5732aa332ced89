package approle

import (
	"context"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
)

// roleField is one of Vault's per-setting role sub-paths, such as
// role/<name>/secret-id-ttl: GET reads the setting, POST sets it, DELETE
// resets it to its default.
type roleField struct {
	path string
	// names are the request and response fields, the current spelling
	// first.
	names []string
	// reset restores the default; nil makes the sub-path read-only.
	reset func(*role)
}

func roleFieldTable() []roleField {
	return []roleField{
		{"policies", []string{"token_policies", "policies"}, func(r *role) { r.Policies = nil }},
		{"secret-id-num-uses", []string{"secret_id_num_uses"}, func(r *role) { r.SecretIDNumUses = 0 }},
		{"secret-id-ttl", []string{"secret_id_ttl"}, func(r *role) { r.SecretIDTTL = 0 }},
		{"secret-id-bound-cidrs", []string{"secret_id_bound_cidrs"}, func(r *role) { r.SecretIDBoundCIDRs = nil }},
		{"bind-secret-id", []string{"bind_secret_id"}, func(r *role) { r.BindSecretID = true }},
		{"local-secret-ids", []string{"local_secret_ids"}, nil},
		{"period", []string{"token_period", "period"}, func(r *role) { r.Period = 0 }},
		{"token-num-uses", []string{"token_num_uses"}, func(r *role) { r.NumUses = 0 }},
		{"token-ttl", []string{"token_ttl"}, func(r *role) { r.TTL = 0 }},
		{"token-max-ttl", []string{"token_max_ttl"}, func(r *role) { r.MaxTTL = 0 }},
		{"token-bound-cidrs", []string{"token_bound_cidrs"}, func(r *role) { r.BoundCIDRs = nil }},
	}
}

// roleFieldPaths builds the sub-paths of roleFieldTable.
func (b *Backend) roleFieldPaths() []*logical.Path {
	all := roleFields()
	var out []*logical.Path
	for _, f := range roleFieldTable() {
		fields := map[string]*logical.Field{}
		for _, n := range f.names {
			fields[n] = all[n]
		}
		ops := map[logical.Operation]logical.Handler{logical.ReadOperation: b.readRoleField(f)}
		if f.reset != nil {
			ops[logical.UpdateOperation] = b.writeRoleField(f)
			ops[logical.DeleteOperation] = b.resetRoleField(f)
		}
		out = append(out, &logical.Path{
			Pattern:    `role/` + namePattern + `/` + f.path,
			Fields:     fields,
			Operations: ops,
			Help:       "Read, set or reset a role's " + strings.ReplaceAll(f.path, "-", " ") + ".",
		})
	}
	return out
}

func (b *Backend) readRoleField(f roleField) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		r, err := storedRole(ctx, req, d)
		if err != nil || r == nil {
			return nil, err
		}
		all := roleData(r)
		data := map[string]any{}
		for _, n := range f.names {
			data[n] = all[f.names[0]]
		}
		return logical.DataResponse(data), nil
	}
}

func (b *Backend) writeRoleField(f roleField) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		sent := false
		for _, n := range f.names {
			if _, ok := d.GetOk(n); ok {
				sent = true
			}
		}
		if !sent {
			return nil, logical.InvalidRequest("missing %s", f.names[0])
		}
		return b.updateRole(ctx, req, d, func(r *role) (string, error) {
			return "", applyRoleFields(r, d, false)
		})
	}
}

func (b *Backend) resetRoleField(f roleField) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		return b.updateRole(ctx, req, d, func(r *role) (string, error) {
			f.reset(r)
			return "", nil
		})
	}
}
