package database

import (
	"context"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// role is a dynamic role: statements that create, renew and revoke a
// short-lived user.
type role struct {
	DBName               string        `json:"db_name"`
	CreationStatements   []string      `json:"creation_statements"`
	RevocationStatements []string      `json:"revocation_statements"`
	RollbackStatements   []string      `json:"rollback_statements"`
	RenewStatements      []string      `json:"renew_statements"`
	DefaultTTL           time.Duration `json:"default_ttl"`
	MaxTTL               time.Duration `json:"max_ttl"`
	UsernameTemplate     string        `json:"username_template"`
}

func (b *backend) rolePaths() []*logical.Path {
	return []*logical.Path{
		{Pattern: "roles/?", Help: "list dynamic roles",
			Operations: map[logical.Operation]logical.Handler{logical.ListOperation: b.listPrefix("role/")}},
		{Pattern: "roles/(?P<name>[^/]+)", Help: "manage a dynamic role",
			Fields: map[string]*logical.Field{
				"db_name":               {Type: logical.TypeString},
				"creation_statements":   {Type: logical.TypeRaw},
				"revocation_statements": {Type: logical.TypeRaw},
				"rollback_statements":   {Type: logical.TypeRaw},
				"renew_statements":      {Type: logical.TypeRaw},
				"default_ttl":           {Type: logical.TypeDuration},
				"max_ttl":               {Type: logical.TypeDuration},
				"username_template":     {Type: logical.TypeString},
				"credential_type":       {Type: logical.TypeString},
				"credential_config":     {Type: logical.TypeMap},
			},
			Existence: func(ctx context.Context, _ *logical.Request, d *logical.FieldData) (bool, error) {
				r, err := getJSON[role](ctx, b.store, "role/"+d.String("name"))
				return r != nil, err
			},
			Operations: map[logical.Operation]logical.Handler{
				logical.ReadOperation:   b.roleRead,
				logical.CreateOperation: b.roleWrite,
				logical.UpdateOperation: b.roleWrite,
				logical.DeleteOperation: b.roleDelete,
			}},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (b *backend) roleRead(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, err := getJSON[role](ctx, b.store, "role/"+d.String("name"))
	if err != nil || r == nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"db_name": r.DBName, "creation_statements": nonNil(r.CreationStatements),
		"revocation_statements": nonNil(r.RevocationStatements), "rollback_statements": nonNil(r.RollbackStatements),
		"renew_statements": nonNil(r.RenewStatements), "default_ttl": int64(r.DefaultTTL.Seconds()),
		"max_ttl": int64(r.MaxTTL.Seconds()), "username_template": r.UsernameTemplate,
		"credential_type": "password", "credential_config": map[string]any{},
	}), nil
}

func (b *backend) roleWrite(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.String("name")
	if !validName(name) {
		return nil, logical.InvalidRequest("invalid role name")
	}
	r, err := getJSON[role](ctx, b.store, "role/"+name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = &role{}
	}
	if v, ok := d.GetOk("db_name"); ok {
		r.DBName = v.(string)
	}
	if r.DBName == "" {
		return nil, logical.InvalidRequest("db_name is required")
	}
	if ct := d.String("credential_type"); ct != "" && ct != "password" {
		return nil, logical.InvalidRequest("credential_type %q is not supported; use \"password\"", ct)
	}
	for field, dst := range map[string]*[]string{"creation_statements": &r.CreationStatements,
		"revocation_statements": &r.RevocationStatements, "rollback_statements": &r.RollbackStatements,
		"renew_statements": &r.RenewStatements} {
		stmts, ok, err := statementsField(d, field)
		if err != nil {
			return nil, err
		}
		if ok {
			*dst = stmts
		}
	}
	if len(r.CreationStatements) == 0 {
		return nil, logical.InvalidRequest("creation_statements are required")
	}
	if _, ok := d.GetOk("default_ttl"); ok {
		r.DefaultTTL = d.Duration("default_ttl")
	}
	if _, ok := d.GetOk("max_ttl"); ok {
		r.MaxTTL = d.Duration("max_ttl")
	}
	if r.MaxTTL > 0 && r.DefaultTTL > r.MaxTTL {
		return nil, logical.InvalidRequest("default_ttl cannot be greater than max_ttl")
	}
	if v, ok := d.GetOk("username_template"); ok {
		r.UsernameTemplate = v.(string)
		if _, err := parseUsernameTemplate(r.UsernameTemplate, nil); err != nil {
			return nil, logical.InvalidRequest("%v", err)
		}
	}
	if err := putJSON(ctx, b.store, "role/"+name, r); err != nil {
		return nil, err
	}
	return &logical.Response{NoContent: true}, nil
}

func (b *backend) roleDelete(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	return nil, b.store.Delete(ctx, "role/"+d.String("name"))
}
