package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/auth/tokenutil"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// Role types and bound-claim match modes.
const (
	roleTypeJWT      = "jwt"
	roleTypeOIDC     = "oidc"
	boundClaimsExact = "string"
	boundClaimsGlob  = "glob"
)

// Leeway defaults in seconds, as Vault.
const (
	defaultClockSkewLeeway  = 60
	defaultExpirationLeeway = 150
	defaultNotBeforeLeeway  = 150
)

const rolePrefix = "role/"

// namePattern matches a role name in a path.
const namePattern = `(?P<name>\w(([\w.@-]+)?\w)?)`

// role is one stored role. Leeways are seconds: 0 means the default,
// negative means none.
type role struct {
	RoleType             string              `json:"role_type"`
	BoundAudiences       []string            `json:"bound_audiences"`
	UserClaim            string              `json:"user_claim"`
	UserClaimJSONPointer bool                `json:"user_claim_json_pointer"`
	BoundSubject         string              `json:"bound_subject"`
	BoundClaims          map[string][]string `json:"bound_claims"`
	BoundClaimsType      string              `json:"bound_claims_type"`
	ClaimMappings        map[string]string   `json:"claim_mappings"`
	GroupsClaim          string              `json:"groups_claim"`
	OIDCScopes           []string            `json:"oidc_scopes"`
	AllowedRedirectURIs  []string            `json:"allowed_redirect_uris"`
	ClockSkewLeeway      int64               `json:"clock_skew_leeway"`
	ExpirationLeeway     int64               `json:"expiration_leeway"`
	NotBeforeLeeway      int64               `json:"not_before_leeway"`
	MaxAge               int64               `json:"max_age"`
	VerboseOIDCLogging   bool                `json:"verbose_oidc_logging"`
	Token                tokenutil.Params    `json:"token"`
}

func roleFields() map[string]*logical.Field {
	return tokenutil.AddFields(map[string]*logical.Field{
		"role_type":               {Type: logical.TypeString},
		"bound_audiences":         {Type: logical.TypeStringSlice},
		"user_claim":              {Type: logical.TypeString},
		"user_claim_json_pointer": {Type: logical.TypeBool},
		"bound_subject":           {Type: logical.TypeString},
		"bound_claims":            {Type: logical.TypeRaw},
		"bound_claims_type":       {Type: logical.TypeString},
		"claim_mappings":          {Type: logical.TypeKVPairs},
		"groups_claim":            {Type: logical.TypeString},
		"oidc_scopes":             {Type: logical.TypeStringSlice},
		"allowed_redirect_uris":   {Type: logical.TypeStringSlice},
		"clock_skew_leeway":       {Type: logical.TypeRaw},
		"expiration_leeway":       {Type: logical.TypeRaw},
		"not_before_leeway":       {Type: logical.TypeRaw},
		"max_age":                 {Type: logical.TypeDuration},
		"verbose_oidc_logging":    {Type: logical.TypeBool},
	})
}

func (b *Backend) roleListPath() *logical.Path {
	return &logical.Path{
		Pattern:    `role/?`,
		Operations: map[logical.Operation]logical.Handler{logical.ListOperation: authutil.ListHandler("jwt: list roles", rolePrefix)},
		Help:       "List the roles.",
	}
}

func (b *Backend) rolePath() *logical.Path {
	return &logical.Path{
		Pattern: `role/` + namePattern,
		Fields:  roleFields(),
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   b.handleRoleRead,
			logical.CreateOperation: b.handleRoleWrite,
			logical.UpdateOperation: b.handleRoleWrite,
			logical.DeleteOperation: b.handleRoleDelete,
		},
		Existence: authutil.ExistsByName(loadRole),
		Help:      "Manage a role: which tokens may log in and the tokens they get.",
	}
}

func (b *Backend) handleRoleRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	r, err := loadRole(ctx, req.Storage, d.String("name"))
	if err != nil || r == nil {
		return nil, err
	}
	bound := map[string]any{}
	for k, v := range r.BoundClaims {
		bound[k] = v
	}
	data := map[string]any{
		"role_type":               r.RoleType,
		"bound_audiences":         authutil.NonNil(r.BoundAudiences),
		"user_claim":              r.UserClaim,
		"user_claim_json_pointer": r.UserClaimJSONPointer,
		"bound_subject":           r.BoundSubject,
		"bound_claims":            bound,
		"bound_claims_type":       r.BoundClaimsType,
		"claim_mappings":          maps.Clone(r.ClaimMappings),
		"groups_claim":            r.GroupsClaim,
		"oidc_scopes":             authutil.NonNil(r.OIDCScopes),
		"allowed_redirect_uris":   authutil.NonNil(r.AllowedRedirectURIs),
		"clock_skew_leeway":       r.ClockSkewLeeway,
		"expiration_leeway":       r.ExpirationLeeway,
		"not_before_leeway":       r.NotBeforeLeeway,
		"max_age":                 r.MaxAge,
		"verbose_oidc_logging":    r.VerboseOIDCLogging,
	}
	return logical.DataResponse(r.Token.Data(data)), nil
}

func (b *Backend) handleRoleDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if err := req.Storage.Delete(ctx, rolePrefix+d.String("name")); err != nil {
		return nil, fmt.Errorf("jwt: delete role: %w", err)
	}
	return &logical.Response{NoContent: true}, nil
}

// handleRoleWrite creates a role or updates the fields sent, then checks
// the whole role as Vault does.
func (b *Backend) handleRoleWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.String("name")
	r, err := loadRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = &role{RoleType: roleTypeOIDC, BoundClaimsType: boundClaimsExact}
	}
	if err := applyRoleFields(r, d); err != nil {
		return nil, err
	}
	if err := r.Token.Parse(d); err != nil {
		return nil, err
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	buf, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("jwt: encode role: %w", err)
	}
	if err := req.Storage.Put(ctx, &storage.Entry{Key: rolePrefix + name, Value: buf}); err != nil {
		return nil, fmt.Errorf("jwt: store role: %w", err)
	}
	return &logical.Response{NoContent: true}, nil
}

// validate applies Vault's role rules.
func (r *role) validate() error {
	switch {
	case r.RoleType != roleTypeJWT && r.RoleType != roleTypeOIDC:
		return logical.InvalidRequest("invalid 'role_type': %q", r.RoleType)
	case r.UserClaim == "":
		return logical.InvalidRequest("a user claim must be defined on the role")
	case r.BoundClaimsType != boundClaimsExact && r.BoundClaimsType != boundClaimsGlob:
		return logical.InvalidRequest("invalid 'bound_claims_type': %q", r.BoundClaimsType)
	case r.RoleType == roleTypeOIDC && len(r.AllowedRedirectURIs) == 0:
		return logical.InvalidRequest("'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified")
	case r.RoleType == roleTypeJWT && len(r.BoundAudiences) == 0 && r.BoundSubject == "" &&
		len(r.BoundClaims) == 0 && len(r.Token.BoundCIDRs) == 0:
		return logical.InvalidRequest("must have at least one bound constraint when creating/updating a role")
	}
	seen := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(r.ClaimMappings)) {
		v := r.ClaimMappings[k]
		if seen[v] {
			return logical.InvalidRequest("multiple keys are mapped to metadata key %q", v)
		}
		seen[v] = true
	}
	return nil
}

func loadRole(ctx context.Context, s storage.Backend, name string) (*role, error) {
	e, err := s.Get(ctx, rolePrefix+name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("jwt: read role: %w", err)
	}
	var r role
	if err := json.Unmarshal(e.Value, &r); err != nil {
		return nil, ErrCorruptEntry
	}
	return &r, nil
}
