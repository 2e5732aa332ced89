// Package policy implements Vault's ACL policy language: it parses HCL
// policies, compiles them into an immutable ACL and decides requests.
package policy

import (
	"time"
)

// MaxPolicySize bounds the text Parse and Format accept. Real policies are a
// few kilobytes; the bound keeps hostile input from exhausting the parser.
const MaxPolicySize = 1 << 20

// Policy is a parsed policy. Parse fills it; callers treat it as read-only
// once it is handed to NewACL.
type Policy struct {
	// Name is the name the policy is stored under; "root" is special to NewACL.
	Name string
	// Raw is the text the policy was parsed from.
	Raw string
	// Paths holds one rule per path block, in source order.
	Paths []*PathRule
	// Templated reports that some path holds identity templating such as
	// {{identity.entity.id}}; see Render.
	Templated bool
}

// PathRule is one `path "..." { ... }` block.
type PathRule struct {
	// Path is the pattern as written, without a leading "/":
	// "secret/data/*", "secret/+/team-*", "sys/mounts".
	Path string
	// Prefix is set when Path ends in "*": the rule matches every path that
	// starts with Path minus the "*".
	Prefix bool
	// SegmentWildcards is set when Path holds "+" segments, each matching
	// exactly one non-empty path segment.
	SegmentWildcards bool
	// Templated is set when Path holds {{...}} identity templating; such a
	// rule matches nothing until Render fills it in.
	Templated bool
	// Capabilities is the set granted; when it holds DenyCapability the
	// fields below are empty, as in Vault.
	Capabilities Capability
	// AllowedParameters restricts request fields to these keys (lowercase)
	// and, for a non-empty list, to these values; the key "*" allows any field.
	AllowedParameters map[string][]any
	// DeniedParameters forbids these fields (lowercase keys), or for a
	// non-empty list only these values; the key "*" forbids every field.
	DeniedParameters map[string][]any
	// RequiredParameters must all be present in the request.
	RequiredParameters []string
	// MinWrappingTTL and MaxWrappingTTL bound the response-wrapping TTL a
	// request must ask for; either being set makes wrapping mandatory.
	MinWrappingTTL, MaxWrappingTTL time.Duration
	// SubscribeEventTypes lists the event types the "subscribe" capability
	// covers.
	SubscribeEventTypes []string
	// Line is the source line of the block, 0 when unknown (JSON input).
	Line int
}
