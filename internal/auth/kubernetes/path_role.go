package kubernetes

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/auth/tokenutil"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// Alias name sources, as Vault's alias_name_source.
const (
	AliasNameSourceUID  = "serviceaccount_uid"
	AliasNameSourceName = "serviceaccount_name"
)

// rolePrefix is the storage folder of roles.
const rolePrefix = "role/"

// roleNamePattern is Vault's generic name rule: word characters, with '-'
// and '.' inside.
const roleNamePattern = `(?P<name>\w(?:[\w\-.]*\w)?)`

// role binds service accounts to token settings.
type role struct {
	tokenutil.Params
	Names      []string `json:"bound_service_account_names"`
	Namespaces []string `json:"bound_service_account_namespaces"`
	// NamespaceSelector is a JSON or YAML label selector; a namespace
	// whose labels match it is allowed too (OR with Namespaces).
	NamespaceSelector string `json:"bound_service_account_namespace_selector"`
	Audience          string `json:"audience"`
	// AliasNameSource is AliasNameSourceUID or AliasNameSourceName.
	AliasNameSource string `json:"alias_name_source"`
}

func (b *Backend) roleListPath() *logical.Path {
	return &logical.Path{
		Pattern:    `role/?`,
		Operations: map[logical.Operation]logical.Handler{logical.ListOperation: authutil.ListHandler("kubernetes: list roles", rolePrefix)},
		Help:       "List the roles.",
	}
}

func (b *Backend) rolePath() *logical.Path {
	fields := tokenutil.AddFields(map[string]*logical.Field{
		"bound_service_account_names":              {Type: logical.TypeStringSlice, Description: `service-account names allowed to log in; "*" or globs`},
		"bound_service_account_namespaces":         {Type: logical.TypeStringSlice, Description: `namespaces allowed to log in; "*" or globs`},
		"bound_service_account_namespace_selector": {Type: logical.TypeString, Description: "JSON or YAML label selector of allowed namespaces"},
		"audience":          {Type: logical.TypeString, Description: "audience the token must carry"},
		"alias_name_source": {Type: logical.TypeString, Description: "serviceaccount_uid (default) or serviceaccount_name"},
	})
	return &logical.Path{
		Pattern: `role/` + roleNamePattern,
		Fields:  fields,
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   b.handleRoleRead,
			logical.CreateOperation: b.handleRoleWrite,
			logical.UpdateOperation: b.handleRoleWrite,
			logical.DeleteOperation: b.handleRoleDelete,
		},
		Existence: authutil.ExistsByName(loadRole),
		Help:      "Manage a role: which service accounts may log in and the tokens they get.",
	}
}

func (b *Backend) handleRoleRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, err := loadRole(ctx, req.Storage, d.String("name"))
	if err != nil || r == nil {
		return nil, err
	}
	data := r.Params.Data(map[string]any{
		"bound_service_account_names":              authutil.NonNil(r.Names),
		"bound_service_account_namespaces":         authutil.NonNil(r.Namespaces),
		"bound_service_account_namespace_selector": r.NamespaceSelector,
		"audience":          r.Audience,
		"alias_name_source": r.AliasNameSource,
	})
	return logical.DataResponse(data), nil
}

// handleRoleWrite creates a role or updates the fields the client sent.
func (b *Backend) handleRoleWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	name := d.String("name")
	r, err := loadRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = &role{AliasNameSource: AliasNameSourceUID}
	}
	if err := r.Params.Parse(d); err != nil {
		return nil, err
	}
	if v, ok := d.GetOk("bound_service_account_names"); ok {
		r.Names = cleanList(v.([]string))
	}
	if v, ok := d.GetOk("bound_service_account_namespaces"); ok {
		r.Namespaces = cleanList(v.([]string))
	}
	if v, ok := d.GetOk("bound_service_account_namespace_selector"); ok {
		r.NamespaceSelector = strings.TrimSpace(v.(string))
	}
	if v, ok := d.GetOk("audience"); ok {
		r.Audience = strings.TrimSpace(v.(string))
	}
	if v, ok := d.GetOk("alias_name_source"); ok {
		r.AliasNameSource = v.(string)
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	if err := putJSON(ctx, req.Storage, rolePrefix+name, r); err != nil {
		return nil, err
	}
	return nil, nil
}

// validate applies Vault's rules for a role.
func (r *role) validate() error {
	switch {
	case len(r.Names) == 0:
		return logical.InvalidRequest(`"bound_service_account_names" can not be empty`)
	case len(r.Namespaces) == 0 && r.NamespaceSelector == "":
		return logical.InvalidRequest(`"bound_service_account_namespaces" can not be empty`)
	case slices.Contains(r.Names, "*") && len(r.Names) > 1:
		return logical.InvalidRequest(`can not mix "*" with values in "bound_service_account_names"`)
	case slices.Contains(r.Namespaces, "*") && len(r.Namespaces) > 1:
		return logical.InvalidRequest(`can not mix "*" with values in "bound_service_account_namespaces"`)
	case r.Names[0] == "*" && len(r.Namespaces) > 0 && r.Namespaces[0] == "*":
		return logical.InvalidRequest(`service_account_names and service_account_namespaces can not both be "*"`)
	}
	if r.NamespaceSelector != "" {
		if _, err := parseSelector(r.NamespaceSelector); err != nil {
			return logical.InvalidRequest("bound_service_account_namespace_selector: %v", err)
		}
	}
	switch r.AliasNameSource {
	case AliasNameSourceUID, AliasNameSourceName:
	default:
		return logical.InvalidRequest("invalid alias_name_source %q: want %s or %s",
			r.AliasNameSource, AliasNameSourceUID, AliasNameSourceName)
	}
	return nil
}

func (b *Backend) handleRoleDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if err := req.Storage.Delete(ctx, rolePrefix+d.String("name")); err != nil {
		return nil, fmt.Errorf("kubernetes: delete role: %w", err)
	}
	return nil, nil
}

func loadRole(ctx context.Context, s storage.Backend, name string) (*role, error) {
	var r role
	ok, err := getJSON(ctx, s, rolePrefix+name, &r)
	if err != nil || !ok {
		return nil, err
	}
	return &r, nil
}

// matchAny reports whether s matches one of the patterns; "*" matches
// everything and a "*" inside a pattern matches any run of characters.
func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if authutil.Glob(p, s) {
			return true
		}
	}
	return false
}

// cleanList trims entries and drops empty ones.
func cleanList(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
