package jwt

import (
	"maps"

	"github.com/cofferdev/coffer/internal/logical"
)

// identity is what a verified token says about who logged in.
type identity struct {
	user     string
	metadata map[string]string
	groups   []string
}

// extractIdentity reads the user claim, the claim mappings and the groups
// claim of a role from verified claims.
func extractIdentity(claims map[string]any, r *role) (*identity, error) {
	var raw any
	if r.UserClaimJSONPointer {
		raw = getClaim(claims, r.UserClaim)
	} else {
		raw = claims[r.UserClaim]
	}
	if raw == nil {
		return nil, invalid("claim %q not found in token", r.UserClaim)
	}
	user, ok := scalarString(raw)
	if !ok || user == "" {
		return nil, invalid("claim %q could not be converted to string", r.UserClaim)
	}
	id := &identity{user: user, metadata: map[string]string{}}
	for claim, key := range r.ClaimMappings {
		v := getClaim(claims, claim)
		if v == nil {
			continue
		}
		s, ok := scalarString(v)
		if !ok {
			return nil, invalid("error converting claim %q to string", claim)
		}
		id.metadata[key] = s
	}
	if r.GroupsClaim != "" {
		v := getClaim(claims, r.GroupsClaim)
		if v == nil {
			return nil, invalid("%q claim not found in token", r.GroupsClaim)
		}
		groups, ok := stringList(v)
		if !ok {
			return nil, invalid("%q claim could not be converted to a list of strings", r.GroupsClaim)
		}
		for _, g := range groups {
			if g != "" {
				id.groups = append(id.groups, g)
			}
		}
	}
	return id, nil
}

// loginAuth builds the Auth a successful login returns: the role's token
// settings, the alias, metadata ("role" plus the claim mappings) and group
// aliases.
func loginAuth(r *role, roleName string, id *identity) *logical.Auth {
	auth := r.Token.Auth()
	auth.DisplayName = id.user
	auth.Alias = &logical.Alias{Name: id.user, Metadata: maps.Clone(id.metadata)}
	meta := maps.Clone(id.metadata)
	meta["role"] = roleName
	auth.Metadata = meta
	for _, g := range id.groups {
		auth.GroupAliases = append(auth.GroupAliases, &logical.Alias{Name: g})
	}
	return auth
}
