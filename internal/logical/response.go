package logical

import (
	"net/netip"
	"time"
)

// Response is what an engine returns. A nil Response with a nil error means
// "nothing here" and becomes a 404 with an empty error list, as in Vault.
type Response struct {
	// Data is the body's "data" object.
	Data map[string]any
	// Secret, when set, makes the response leased.
	Secret *Secret
	// Auth is set by login and token-creation endpoints.
	Auth *Auth
	// Warnings are returned to the client alongside data.
	Warnings []string
	// WrapInfo is set when the response was wrapped.
	WrapInfo *WrapInfo
	// NoContent asks the HTTP layer for a 204 when Data is empty.
	NoContent bool
	// NotFound sends the body with a 404, as Vault does for a deleted or
	// destroyed KV version whose metadata it still shows.
	NotFound bool
	// PartialFailure sends the body with a 400: some items of a batch
	// failed and the body says which, as Vault's transit batches do.
	PartialFailure bool
	// Stream, when set, is sent as a raw body instead of an envelope.
	Stream *Stream
}

// Secret describes a lease on the returned data.
type Secret struct {
	LeaseID   string
	TTL       time.Duration
	Renewable bool
	// MaxTTL caps the lease's total lifetime from its issue time; zero
	// leaves the mount's or system's maximum in force.
	MaxTTL time.Duration
	// InternalData is engine-private data stored with the lease (for
	// example the database username) and handed back on revoke and renew.
	// It is never returned to clients.
	InternalData map[string]any
}

// Auth describes a token issued by a response. Auth methods fill in what a
// login proved (policies, alias, token settings); the core creates the token
// and fills in ClientToken, Accessor, EntityID and the policy lists.
type Auth struct {
	ClientToken      string
	Accessor         string
	Policies         []string
	TokenPolicies    []string
	IdentityPolicies []string
	Metadata         map[string]string
	// DisplayName is the login's name (e.g. the username); the core prefixes
	// it with the mount's path as Vault does ("userpass-alice").
	DisplayName string
	TTL         time.Duration
	// MaxTTL caps the token's whole life (a role's token_max_ttl); zero
	// leaves the mount's maximum in force.
	MaxTTL         time.Duration
	ExplicitMaxTTL time.Duration
	Period         time.Duration
	Renewable      bool
	EntityID       string
	// TokenType is "service", "batch", or "" / "default" for the mount's
	// default.
	TokenType string
	Orphan    bool
	NumUses   int
	// NoDefaultPolicy leaves the "default" policy off the token.
	NoDefaultPolicy bool
	// BoundCIDRs restrict where the issued token may be used from.
	BoundCIDRs []netip.Prefix
	// Alias is the identity the login proved within its mount (a username, a
	// role id, a service-account UID); the core maps it to an entity.
	Alias *Alias
	// GroupAliases are the identity provider's groups for this login; the
	// core maps them to external identity groups.
	GroupAliases []*Alias
}

// Alias names a login's identity inside one auth mount.
type Alias struct {
	Name     string
	Metadata map[string]string
}

// WrapInfo describes a wrapping token that stands for a response.
type WrapInfo struct {
	Token           string
	Accessor        string
	TTL             time.Duration
	CreationTime    time.Time
	CreationPath    string
	WrappedAccessor string
}

// Warn appends a warning.
func (r *Response) Warn(msg string) {
	r.Warnings = append(r.Warnings, msg)
}

// DataResponse builds a response carrying data.
func DataResponse(data map[string]any) *Response {
	return &Response{Data: data}
}
