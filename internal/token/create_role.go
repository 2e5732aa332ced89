package token

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/logical"
)

// applyRole folds role's settings into the request as Vault does for
// create/<role>: the role can force the token type, make the token an
// orphan, turn renewal off, lower the use count, period and explicit max
// TTL, bind the token to CIDRs and add a path suffix, and it names the
// entity aliases a token may be created for. Without a role an
// entity_alias is refused.
func (r *createRequest) applyRole(role *Role) error {
	if role == nil {
		if r.entityAlias != "" {
			return errorf("'entity_alias' is only allowed in combination with token role")
		}
		return nil
	}
	if r.entityAlias != "" {
		r.entityAlias = strings.ToLower(r.entityAlias)
		if !slices.ContainsFunc(role.AllowedEntityAliases, func(g string) bool { return authutil.Glob(g, r.entityAlias) }) {
			return errorf("invalid 'entity_alias' value")
		}
	}
	switch role.Type {
	case TypeService, TypeBatch:
		r.typ = role.Type
	case roleTypeDefaultBatch:
		if r.typ == "" {
			r.typ = TypeBatch
		}
	}
	r.noParent = false // a role decides orphanhood, without sudo
	r.roleOrphan = role.Orphan
	if !role.Renewable {
		no := false
		r.renewable = &no
	}
	r.numUses = lowerOf(r.numUses, role.NumUses)
	r.period = lowerOf(r.period, role.Period)
	r.explicitMaxTTL = lowerOf(r.explicitMaxTTL, role.ExplicitMaxTTL)
	if len(role.BoundCIDRs) > 0 {
		if len(r.boundCIDRs) > 0 {
			return errorf("'bound_cidrs' cannot be given: role %q binds its tokens to its own CIDRs", role.Name)
		}
		r.boundCIDRs = role.BoundCIDRs
	}
	if role.PathSuffix != "" {
		r.pathSuffix = "/" + role.PathSuffix
	}
	return nil
}

// lowerOf is the smaller of two limits where 0 means none.
func lowerOf[T int | time.Duration](a, b T) T {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// hasPolicyLists reports whether the role bounds policies itself; a role
// without lists leaves the plain create rules in force.
func (role *Role) hasPolicyLists() bool {
	return role != nil && (len(role.AllowedPolicies) > 0 || len(role.AllowedPoliciesGlob) > 0 ||
		len(role.DisallowedPolicies) > 0 || len(role.DisallowedPoliciesGlob) > 0)
}

// rolePolicies decides the policies of a token created against a role with
// policy lists, as Vault does. "default" is added unless the request or the
// role leaves it off or the role disallows it. With allowed lists, the
// requested policies must each be allowed (by name or glob), and none
// requested means the allowed names. Without them, none requested means
// the parent's policies, and requested policies are not held to the
// parent's: the role's author decided. Either way no policy may be
// disallowed.
func rolePolicies(parent *Entry, r *createRequest, role *Role) ([]string, error) {
	addDefault := !r.noDefaultPolicy && !role.NoDefaultPolicy &&
		!matchesAny("default", role.DisallowedPolicies, role.DisallowedPoliciesGlob)
	var out []string
	if len(r.policies) > 0 {
		out = SanitizePolicies(r.policies, addDefault)
	}
	if len(role.AllowedPolicies) > 0 || len(role.AllowedPoliciesGlob) > 0 {
		allowed := SanitizePolicies(role.AllowedPolicies, addDefault)
		if len(out) == 0 {
			out = allowed
		}
		for _, p := range out {
			if !matchesAny(p, allowed, role.AllowedPoliciesGlob) {
				return nil, errorf("token policies (%q) must be subset of the role's allowed policies (%q) or glob policies (%q)",
					out, allowed, role.AllowedPoliciesGlob)
			}
		}
	} else if len(out) == 0 {
		out = SanitizePolicies(parent.Policies, addDefault)
	}
	for _, p := range out {
		if matchesAny(p, role.DisallowedPolicies, role.DisallowedPoliciesGlob) {
			return nil, errorf("token policy %q is disallowed by this role", p)
		}
	}
	return out, nil
}

// roleOfPath returns the role a token was created against, from its
// creation path relative to the token mount ("create/<role>[/<suffix>]"),
// or "" for a token made without one.
func roleOfPath(rel string) string {
	rest, ok := strings.CutPrefix(rel, "create/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// role returns the role e was created against, "" if none.
func (e *Entry) role() string { return roleOfPath(strings.TrimPrefix(e.Path, "auth/token/")) }

// RenewAuth implements logical.AuthRenewer for the tokens this API made:
// a token created against a role is renewed only while the role exists,
// with the role's current period (its own if the role has none) and the
// role's explicit max TTL, which can only lower the token's. Other tokens
// keep their own terms (nil, nil).
func (b *backend) RenewAuth(ctx context.Context, req *logical.Request, token *logical.Auth) (*logical.Auth, error) {
	name := roleOfPath(req.Path)
	if name == "" {
		return nil, nil
	}
	role, err := loadRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if role == nil {
		return nil, errorf("original token role %q could not be found, not renewing", name)
	}
	period := role.Period
	if period == 0 {
		period = token.Period
	}
	return &logical.Auth{TTL: token.TTL, Period: period, ExplicitMaxTTL: role.ExplicitMaxTTL}, nil
}
