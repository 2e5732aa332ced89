package policy

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"
)

// Capability is a set of ACL capabilities, one bit each. The zero value is
// the empty set, which grants nothing.
type Capability uint16

// The capabilities of Vault's policy language. DenyCapability overrides every
// other bit: a set holding it grants nothing. SudoCapability never grants an
// operation by itself; it marks root-protected paths as reachable.
const (
	DenyCapability Capability = 1 << iota
	CreateCapability
	ReadCapability
	UpdateCapability
	PatchCapability
	DeleteCapability
	ListCapability
	SudoCapability
	SubscribeCapability
	RecoverCapability

	numCapabilities = iota
)

// capabilityName returns the policy-language name of bit i.
func capabilityName(i int) string {
	switch Capability(1) << i {
	case DenyCapability:
		return "deny"
	case CreateCapability:
		return "create"
	case ReadCapability:
		return "read"
	case UpdateCapability:
		return "update"
	case PatchCapability:
		return "patch"
	case DeleteCapability:
		return "delete"
	case ListCapability:
		return "list"
	case SudoCapability:
		return "sudo"
	case SubscribeCapability:
		return "subscribe"
	case RecoverCapability:
		return "recover"
	}
	return ""
}

// ParseCapability returns the capability named s ("read", "sudo", ...).
func ParseCapability(s string) (Capability, error) {
	for i := range numCapabilities {
		if capabilityName(i) == s {
			return 1 << i, nil
		}
	}
	return 0, fmt.Errorf("unknown capability %q", s)
}

// Has reports whether every bit of want is in c.
func (c Capability) Has(want Capability) bool { return c&want == want }

// Strings returns the names in c sorted alphabetically, or ["deny"] when the
// deny bit is set, since deny overrides everything else. The empty set gives
// nil.
func (c Capability) Strings() []string {
	if c&DenyCapability != 0 {
		return []string{"deny"}
	}
	if c == 0 {
		return nil
	}
	out := make([]string, 0, bits.OnesCount16(uint16(c)))
	for i := range numCapabilities {
		if c&(1<<i) != 0 {
			out = append(out, capabilityName(i))
		}
	}
	sort.Strings(out)
	return out
}

// String returns the names joined by commas, e.g. "list,read".
func (c Capability) String() string { return strings.Join(c.Strings(), ",") }

// legacyCapabilities maps the pre-0.5 `policy = "..."` shorthand to
// capabilities, as Vault does.
func legacyCapabilities(s string) (Capability, bool) {
	const write = CreateCapability | ReadCapability | UpdateCapability | DeleteCapability | ListCapability
	switch s {
	case "deny":
		return DenyCapability, true
	case "read":
		return ReadCapability | ListCapability, true
	case "write":
		return write, true
	case "sudo":
		return write | SudoCapability, true
	}
	return 0, false
}

// bitIndex returns the position of the single bit in c.
func bitIndex(c Capability) int { return bits.TrailingZeros16(uint16(c)) }
