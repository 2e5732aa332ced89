package token

import (
	"context"
	"errors"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/auth/tokenutil"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// rolePrefix is where roles live in the token mount's own storage (the
// request's Storage), apart from the token store's view.
const rolePrefix = "role/"

// roleNamePattern is Vault's generic name rule; role names keep their case.
const roleNamePattern = `(?P<role_name>\w(?:[\w\-.]*\w)?)`

// pathSuffixRE is the shape Vault requires of a role's path_suffix: word
// characters, '-' and '.', at least three, starting and ending with a word
// character. Unlike Vault's check it is anchored, and '/' separates such
// segments, so a suffix is always a clean relative path.
var pathSuffixRE = regexp.MustCompile(`^\w[\w\-.]+\w$`)

// Token types a role may name (Vault's names; "default" is taken as
// "default-service").
const (
	roleTypeDefaultService = "default-service"
	roleTypeDefaultBatch   = "default-batch"
)

// errRoleCorrupt reports a stored role that does not decode.
var errRoleCorrupt = errors.New("token: stored role is corrupt")

// Role is a token role: a template and a set of limits for the tokens
// created at auth/token/create/<name>.
type Role struct {
	Name string `json:"name"`
	// AllowedPolicies, if any (or AllowedPoliciesGlob), are the only
	// policies the role's tokens may have; without them the parent's
	// policies bound the request as for a plain create.
	AllowedPolicies        []string `json:"allowed_policies,omitempty"`
	AllowedPoliciesGlob    []string `json:"allowed_policies_glob,omitempty"`
	DisallowedPolicies     []string `json:"disallowed_policies,omitempty"`
	DisallowedPoliciesGlob []string `json:"disallowed_policies_glob,omitempty"`
	// Orphan makes every token of the role an orphan; no sudo is needed.
	Orphan bool `json:"orphan"`
	// Renewable false makes the role's tokens non-renewable.
	Renewable bool `json:"renewable"`
	// AllowedEntityAliases are the entity aliases (names or globs) a
	// token of the role may be created for.
	AllowedEntityAliases []string `json:"allowed_entity_aliases,omitempty"`
	// PathSuffix is appended to the tokens' creation path, so a whole
	// generation can be revoked with sys/leases/revoke-prefix.
	PathSuffix string `json:"path_suffix,omitempty"`
	// The token settings a role may carry (Vault's allow-list).
	Period          time.Duration  `json:"token_period,omitempty"`
	ExplicitMaxTTL  time.Duration  `json:"token_explicit_max_ttl,omitempty"`
	BoundCIDRs      []netip.Prefix `json:"token_bound_cidrs,omitempty"`
	NoDefaultPolicy bool           `json:"token_no_default_policy,omitempty"`
	NumUses         int            `json:"token_num_uses,omitempty"`
	// Type is service, batch, default-service or default-batch.
	Type string `json:"token_type"`
}

func roleKey(name string) string { return rolePrefix + name }

// loadRole returns the named role, nil if there is none.
func loadRole(ctx context.Context, s storage.Backend, name string) (*Role, error) {
	if s == nil {
		return nil, errors.New("token: no storage for roles")
	}
	var r Role
	ok, err := authutil.GetJSON(ctx, s, "token", roleKey(name), &r, errRoleCorrupt)
	if err != nil || !ok {
		return nil, err
	}
	return &r, nil
}

// roleFields is the schema of auth/token/roles/<name>.
func roleFields() map[string]*logical.Field {
	list := func(desc string) *logical.Field {
		return &logical.Field{Type: logical.TypeStringSlice, Description: desc}
	}
	dur := func(desc string) *logical.Field { return &logical.Field{Type: logical.TypeDuration, Description: desc} }
	return map[string]*logical.Field{
		"role_name":                {Type: logical.TypeString, Description: "Name of the role."},
		"allowed_policies":         list("The only policies tokens of the role may have."),
		"allowed_policies_glob":    list("Glob patterns of further policies tokens of the role may have."),
		"disallowed_policies":      list("Policies tokens of the role may never have."),
		"disallowed_policies_glob": list("Glob patterns of policies tokens of the role may never have."),
		"allowed_entity_aliases":   list("Entity aliases (names or globs) tokens of the role may be created for."),
		"orphan":                   {Type: logical.TypeBool, Description: "Make every token of the role an orphan."},
		"renewable":                {Type: logical.TypeBool, Default: true, Description: "Whether tokens of the role can be renewed."},
		"path_suffix":              {Type: logical.TypeString, Description: "Suffix of the tokens' creation path."},
		"token_period":             dur("Period of the role's tokens, which makes them periodic."),
		"period":                   dur("Deprecated spelling of token_period."),
		"token_explicit_max_ttl":   dur("Hard limit on the life of the role's tokens."),
		"explicit_max_ttl":         dur("Deprecated spelling of token_explicit_max_ttl."),
		"token_bound_cidrs":        list("CIDRs the role's tokens may be used from."),
		"bound_cidrs":              list("Deprecated spelling of token_bound_cidrs."),
		"token_no_default_policy":  {Type: logical.TypeBool, Description: "Leave the default policy off the role's tokens."},
		"token_num_uses":           {Type: logical.TypeInt, Description: "Uses of the role's tokens; 0 is unlimited."},
		"token_type":               {Type: logical.TypeString, Description: "service, batch, default-service or default-batch."},
	}
}

// update applies the fields the client sent to r (a new role has Vault's
// defaults already) and validates the result.
func (r *Role) update(d *logical.FieldData) error {
	lists := []struct {
		dst      *[]string
		name     string
		sanitize func([]string) []string
	}{
		{&r.AllowedPolicies, "allowed_policies", sanitizeAllowed},
		{&r.AllowedPoliciesGlob, "allowed_policies_glob", sanitizeAllowed},
		{&r.DisallowedPolicies, "disallowed_policies", lowerUnique},
		{&r.DisallowedPoliciesGlob, "disallowed_policies_glob", lowerUnique},
		{&r.AllowedEntityAliases, "allowed_entity_aliases", lowerUnique},
	}
	for _, l := range lists {
		if v, ok := d.GetOk(l.name); ok {
			*l.dst = l.sanitize(v.([]string))
		}
	}
	if v, ok := d.GetOk("orphan"); ok {
		r.Orphan = v.(bool)
	}
	if v, ok := d.GetOk("renewable"); ok {
		r.Renewable = v.(bool)
	}
	if v, ok := d.GetOk("path_suffix"); ok {
		r.PathSuffix = v.(string)
	}
	if err := r.updateTokenFields(d); err != nil {
		return err
	}
	return r.validate()
}

// updateTokenFields applies the token_* fields and their deprecated
// spellings; the new name wins when both are sent.
func (r *Role) updateTokenFields(d *logical.FieldData) error {
	if v, ok := tokenutil.Pick(d, "token_period", "period"); ok {
		r.Period = v.(time.Duration)
	}
	if v, ok := tokenutil.Pick(d, "token_explicit_max_ttl", "explicit_max_ttl"); ok {
		r.ExplicitMaxTTL = v.(time.Duration)
	}
	if v, ok := tokenutil.Pick(d, "token_bound_cidrs", "bound_cidrs"); ok {
		cidrs, err := tokenutil.ParseCIDRs(v.([]string))
		if err != nil {
			return errorf("token_bound_cidrs: %v", err)
		}
		r.BoundCIDRs = cidrs
	}
	if v, ok := d.GetOk("token_no_default_policy"); ok {
		r.NoDefaultPolicy = v.(bool)
	}
	if v, ok := d.GetOk("token_num_uses"); ok {
		r.NumUses = v.(int)
	}
	if v, ok := d.GetOk("token_type"); ok {
		switch t := strings.ToLower(strings.TrimSpace(v.(string))); t {
		case TypeService, TypeBatch, roleTypeDefaultService, roleTypeDefaultBatch:
			r.Type = t
		case "default":
			r.Type = roleTypeDefaultService
		default:
			return errorf("invalid 'token_type' value %q", v)
		}
	}
	return nil
}

func (r *Role) validate() error {
	switch {
	case r.Period < 0:
		return errorf("'token_period' cannot be negative")
	case r.ExplicitMaxTTL < 0:
		return errorf("'token_explicit_max_ttl' cannot be negative")
	case r.NumUses < 0:
		return errorf("'token_num_uses' cannot be negative")
	}
	if r.PathSuffix != "" {
		for _, seg := range strings.Split(r.PathSuffix, "/") {
			if !pathSuffixRE.MatchString(seg) || strings.Contains(seg, "..") {
				return errorf("given role path suffix contains invalid characters; each '/'-separated part must match \\w[\\w-.]+\\w and contain no '..'")
			}
		}
	}
	if r.Type != TypeBatch {
		return nil
	}
	switch {
	case !r.Orphan:
		return errorf("'token_type' cannot be 'batch' when role is set to generate non-orphan tokens")
	case r.Period > 0:
		return errorf("'token_type' cannot be 'batch' when role is set to generate periodic tokens")
	case r.Renewable:
		return errorf("'token_type' cannot be 'batch' when role is set to generate renewable tokens")
	case r.ExplicitMaxTTL > 0:
		return errorf("'token_type' cannot be 'batch' when role is set to generate tokens with an explicit max TTL")
	case r.NumUses > 0:
		return errorf("'token_type' cannot be 'batch' when role is set to generate tokens with limited use count")
	}
	return nil
}

// data is the role as a read shows it, with Vault's keys (durations in
// seconds, deprecated spellings alongside).
func (r *Role) data() map[string]any {
	cidrs := make([]string, 0, len(r.BoundCIDRs))
	for _, c := range r.BoundCIDRs {
		cidrs = append(cidrs, c.String())
	}
	d := map[string]any{
		"name":                     r.Name,
		"allowed_policies":         authutil.NonNil(r.AllowedPolicies),
		"allowed_policies_glob":    authutil.NonNil(r.AllowedPoliciesGlob),
		"disallowed_policies":      authutil.NonNil(r.DisallowedPolicies),
		"disallowed_policies_glob": authutil.NonNil(r.DisallowedPoliciesGlob),
		"allowed_entity_aliases":   authutil.NonNil(r.AllowedEntityAliases),
		"orphan":                   r.Orphan,
		"renewable":                r.Renewable,
		"path_suffix":              r.PathSuffix,
		"token_period":             seconds(r.Period),
		"period":                   seconds(r.Period),
		"token_explicit_max_ttl":   seconds(r.ExplicitMaxTTL),
		"explicit_max_ttl":         seconds(r.ExplicitMaxTTL),
		"token_no_default_policy":  r.NoDefaultPolicy,
		"token_type":               r.Type,
	}
	if len(cidrs) > 0 {
		d["token_bound_cidrs"] = cidrs
		d["bound_cidrs"] = cidrs
	}
	if r.NumUses > 0 {
		d["token_num_uses"] = r.NumUses
	}
	return d
}

// sanitizeAllowed normalises an allowed list as Vault does: trimmed,
// lowercased, sorted, deduplicated; "root" replaces everything.
func sanitizeAllowed(in []string) []string { return SanitizePolicies(in, false) }

// lowerUnique lowercases, trims, sorts and deduplicates, dropping empties.
func lowerUnique(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// matchesAny reports whether p is in names or matches one of globs.
func matchesAny(p string, names, globs []string) bool {
	if slices.Contains(names, p) {
		return true
	}
	return slices.ContainsFunc(globs, func(g string) bool { return authutil.Glob(g, p) })
}
