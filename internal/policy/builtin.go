package policy

import (
	"fmt"
	"strings"
)

// Names of the built-in policies.
const (
	// DefaultPolicyName is attached to tokens unless they opt out.
	DefaultPolicyName = "default"
	// ResponseWrappingPolicyName is the policy of response-wrapping tokens.
	ResponseWrappingPolicyName = "response-wrapping"
	// maxNameLength bounds policy names.
	maxNameLength = 128
)

// defaultPolicy mirrors the paths of Vault's built-in "default" policy.
const defaultPolicy = `# Let tokens look up their own properties.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# Let tokens renew themselves.
path "auth/token/renew-self" {
  capabilities = ["update"]
}

# Let tokens revoke themselves.
path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# Let a token look up its own capabilities on a path.
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# Let a token look up its own entity by id or name.
path "identity/entity/id/{{identity.entity.id}}" {
  capabilities = ["read"]
}

path "identity/entity/name/{{identity.entity.name}}" {
  capabilities = ["read"]
}

# Let a token read its resultant ACL, for UIs. The format of this internal
# path may change.
path "sys/internal/ui/resultant-acl" {
  capabilities = ["read"]
}

# Let a token renew a lease given its lease_id in the body; the old path
# serves old clients.
path "sys/renew" {
  capabilities = ["update"]
}

path "sys/leases/renew" {
  capabilities = ["update"]
}

# Let a token look up a lease whose ID it already knows.
path "sys/leases/lookup" {
  capabilities = ["update"]
}

# Let a token manage its own cubbyhole.
path "cubbyhole/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Let a token wrap arbitrary values in a response-wrapping token.
path "sys/wrapping/wrap" {
  capabilities = ["update"]
}

# Let a token look up the creation time and TTL of a wrapping token.
path "sys/wrapping/lookup" {
  capabilities = ["update"]
}

# Let a token unwrap a response-wrapping token without swapping tokens.
path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}

# General purpose tools.
path "sys/tools/hash" {
  capabilities = ["update"]
}

path "sys/tools/hash/*" {
  capabilities = ["update"]
}

# Let a token check a control group request whose accessor it holds.
path "sys/control-group/request" {
  capabilities = ["update"]
}

# Let a token use the authorization endpoint of OIDC providers.
path "identity/oidc/provider/+/authorize" {
  capabilities = ["read", "update"]
}
`

// responseWrappingPolicy mirrors Vault's policy for wrapping tokens.
const responseWrappingPolicy = `path "cubbyhole/response" {
  capabilities = ["create", "read"]
}

path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}
`

// DefaultPolicy returns the text of the built-in "default" policy, with the
// same paths as Vault's: token self-management, capabilities-self, own
// identity entity, lease renew and lookup, cubbyhole, wrapping and tools.
func DefaultPolicy() string { return defaultPolicy }

// ResponseWrappingPolicy returns the text of the built-in policy given to
// response-wrapping tokens.
func ResponseWrappingPolicy() string { return responseWrappingPolicy }

// ValidateName checks a policy name users may write: 1 to 128 characters of
// [a-z0-9._-] without "..", not a reserved name ("root", "response-wrapping"). Callers
// lowercase names first, as Vault does.
func ValidateName(name string) error {
	if name == "" || len(name) > maxNameLength {
		return fmt.Errorf("%w: %q must be 1 to %d characters", ErrInvalidName, name, maxNameLength)
	}
	for _, c := range []byte(name) {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("%w: %q may only hold lowercase letters, digits, '.', '_' and '-'", ErrInvalidName, name)
		}
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("%w: %q may not contain \"..\"", ErrInvalidName, name)
	}
	switch name {
	case RootPolicyName, ResponseWrappingPolicyName:
		return fmt.Errorf("%w: %q cannot be written", ErrReservedName, name)
	}
	return nil
}
