package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnknownCapability is returned by Explain for a name that is neither a
// capability (other than deny) nor an operation.
var ErrUnknownCapability = errors.New("policy: unknown capability")

// Explanation tells whether an ACL grants one capability on one path, and
// which rule and policies decided. It is what `coffer can-i`, `coffer policy
// test` and sys/policy-check report.
type Explanation struct {
	// Allowed reports whether the capability is granted.
	Allowed bool
	// Capability is the capability checked, after mapping an operation to
	// it ("renew" is checked as "update").
	Capability string
	// Rule is the path pattern that decided, as written in the policy
	// ("secret/data/*"); empty when no rule matched or the ACL is root.
	Rule string
	// Policies name the policies that decided, sorted: those granting the
	// capability when allowed, those holding the deny when a deny rule
	// decided, and every policy with the matching rule when that rule lacks
	// the capability. Empty when no rule matched; ["root"] for root.
	Policies []string
	// Capabilities are all the capabilities the deciding rule grants on
	// the path, as sys/capabilities reports them (["deny"] for none).
	Capabilities []string
	// Reason says why, in words safe to show a client.
	Reason string
}

// Explain compiles policies into an ACL and explains capability on path;
// see ACL.Explain.
func Explain(policies []*Policy, capability, path string) (Explanation, error) {
	a, err := NewACL(policies...)
	if err != nil {
		return Explanation{}, err
	}
	return a.Explain(capability, path)
}

// Explain reports whether the ACL grants capability on path and which rule
// decided, using the same rule lookup and precedence as Check. capability
// is a capability name ("read", "sudo", "subscribe", ...) or an operation
// Check knows ("renew", "revoke" and "rollback" need update). Parameter and
// response-wrapping constraints are not evaluated: they depend on the
// request, so a rule that holds the capability is reported as allowing it.
func (a *ACL) Explain(capability, path string) (Explanation, error) {
	need, err := explainCapability(capability)
	if err != nil {
		return Explanation{}, err
	}
	ex := Explanation{Capability: capabilityName(bitIndex(need))}
	if a.root {
		ex.Allowed = true
		ex.Policies = []string{RootPolicyName}
		ex.Capabilities = []string{RootPolicyName}
		ex.Reason = "the root policy grants every capability"
		return ex, nil
	}
	path = strings.TrimLeft(path, "/")
	r := a.lookup(path, need == ListCapability)
	if r == nil {
		ex.Capabilities = []string{"deny"}
		ex.Reason = "no policy has a rule matching " + quote(path)
		return ex, nil
	}
	ex.Rule = r.pattern
	ex.Capabilities = r.caps.Strings()
	if len(ex.Capabilities) == 0 {
		ex.Capabilities = []string{"deny"}
	}
	switch {
	case r.caps&DenyCapability != 0:
		ex.Policies = slices.Clone(r.grants[bitIndex(DenyCapability)])
		ex.Reason = quote(path) + " is explicitly denied by rule " + quote(r.pattern)
	case r.caps&need == 0:
		ex.Policies = splitNames(r.allNames)
		ex.Reason = "rule " + quote(r.pattern) + " does not grant " + ex.Capability
	default:
		ex.Allowed = true
		ex.Policies = slices.Clone(r.grants[bitIndex(need)])
		ex.Reason = "rule " + quote(r.pattern) + " grants " + ex.Capability
	}
	return ex, nil
}

// explainCapability maps a capability name or an operation to its bit.
// "deny" is not something one can be granted, so it is refused.
func explainCapability(s string) (Capability, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if c := opCapability(s); c != 0 {
		return c, nil
	}
	c, err := ParseCapability(s)
	if err != nil || c == DenyCapability {
		return 0, fmt.Errorf("%w: %q is not a capability or operation", ErrUnknownCapability, s)
	}
	return c, nil
}

func splitNames(joined string) []string {
	if joined == "" {
		return nil
	}
	return strings.Split(joined, ",")
}
