package policy

import (
	"strconv"
	"strings"
	"time"
)

// Result is the decision for one request.
type Result struct {
	// Allowed reports whether the request may proceed.
	Allowed bool
	// Sudo reports that the deciding rule grants sudo, which root-protected
	// paths require in addition to the operation's capability.
	Sudo bool
	// Capabilities are the merged capabilities of the deciding rule.
	Capabilities Capability
	// Policy names the policies that decided, comma-separated: those
	// granting the operation when allowed, those denying it otherwise.
	Policy string
	// Rule is the path pattern that decided, e.g. "secret/data/*"; empty
	// when no rule matched.
	Rule string
	// Reason explains a denial in words safe to show the client; it names
	// parameters but never their values.
	Reason string
}

// Check decides whether op on path is allowed. op is one of "create",
// "read", "update", "patch", "delete", "list" (also "renew", "revoke" and
// "rollback", checked as update; "recover"; and "help", always allowed).
// data is the request body, nil for reads; wrapTTL is the requested
// response-wrapping TTL, 0 for none.
//
// Parameter rules (allowed, denied, required) apply to read, create, update,
// patch and recover, as in Vault. A simple allowed read does not allocate.
func (a *ACL) Check(op, path string, data map[string]any, wrapTTL time.Duration) Result {
	if a.root {
		return Result{Allowed: true, Sudo: true, Capabilities: allCapabilities, Policy: RootPolicyName}
	}
	need := opCapability(op)
	if need == 0 {
		if op == "help" {
			return Result{Allowed: true}
		}
		return Result{Reason: "unknown operation " + quote(op)}
	}
	path = strings.TrimLeft(path, "/")
	r := a.lookup(path, op == "list")
	if r == nil {
		return Result{Reason: "no policy grants " + op + " on " + quote(path)}
	}
	res := Result{Capabilities: r.caps, Sudo: r.caps&SudoCapability != 0, Rule: r.pattern}
	switch {
	case r.caps&DenyCapability != 0:
		res.Policy = r.names[bitIndex(DenyCapability)]
		res.Reason = quote(path) + " is explicitly denied by rule " + quote(r.pattern)
		return res
	case r.caps&need == 0:
		res.Policy = r.allNames
		res.Reason = "no policy grants " + op + " on " + quote(path) + " (rule " + quote(r.pattern) + ")"
		return res
	}
	res.Policy = r.names[bitIndex(need)]
	if reason := r.checkWrapping(wrapTTL); reason != "" {
		res.Reason = reason
		return res
	}
	if checksParameters(op) {
		if reason := r.checkParameters(data); reason != "" {
			res.Reason = reason
			return res
		}
	}
	res.Allowed = true
	return res
}

// Capabilities returns the capabilities the ACL grants on path, as
// sys/capabilities reports them: ["root"] for a root ACL, ["deny"] when
// nothing is granted, otherwise sorted names.
func (a *ACL) Capabilities(path string) []string {
	if a.root {
		return []string{"root"}
	}
	// Vault evaluates capabilities with list semantics, so a trailing "/"
	// finds the rule for the path without it.
	r := a.lookup(strings.TrimLeft(path, "/"), true)
	if r == nil {
		return []string{"deny"}
	}
	caps := r.caps.Strings()
	if len(caps) == 0 {
		return []string{"deny"}
	}
	return caps
}

// opCapability maps an operation to the capability it needs, 0 if unknown.
func opCapability(op string) Capability {
	switch op {
	case "read":
		return ReadCapability
	case "list":
		return ListCapability
	case "create":
		return CreateCapability
	case "update", "renew", "revoke", "rollback":
		return UpdateCapability
	case "patch":
		return PatchCapability
	case "delete":
		return DeleteCapability
	case "recover":
		return RecoverCapability
	}
	return 0
}

// checksParameters reports whether op is subject to parameter rules.
func checksParameters(op string) bool {
	switch op {
	case "read", "create", "update", "patch", "recover":
		return true
	}
	return false
}

// lookup finds the rule deciding path: an exact rule if any, else the
// highest-priority wildcard rule. Lists also try the path without its
// trailing "/" first, as Vault does.
func (a *ACL) lookup(path string, list bool) *rule {
	if r := a.exact[path]; r != nil {
		return r
	}
	if list {
		trimmed := strings.TrimSuffix(path, "/")
		if r := a.exact[trimmed]; r != nil {
			return r
		}
		if len(trimmed) != len(path) {
			if r := a.nonExact(trimmed); r != nil {
				return r
			}
		}
	}
	return a.nonExact(path)
}

// nonExact finds the best prefix or "+" rule matching path.
func (a *ACL) nonExact(path string) *rule {
	var best *rule
	for _, n := range a.prefixLens {
		if n > len(path) {
			continue
		}
		if r := a.prefix[path[:n]]; r != nil {
			best = r
			break
		}
	}
	first, _, _ := strings.Cut(path, "/")
	for _, list := range [2][]*rule{a.wild[first], a.wildAny} {
		for _, w := range list {
			if w.matches(path) && (best == nil || w.outranks(best)) {
				best = w
			}
		}
	}
	return best
}

// matches reports whether a "+" rule matches path: each "+" stands for one
// non-empty segment, a prefix rule's last segment matches by prefix and
// anything may follow it.
func (r *rule) matches(path string) bool {
	rest, more := path, true
	for i, s := range r.segs {
		if !more {
			return false
		}
		var part string
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			part, rest = rest[:j], rest[j+1:]
		} else {
			part, rest, more = rest, "", false
		}
		switch {
		case s == "+":
			if part == "" {
				return false
			}
		case r.prefix && i == len(r.segs)-1:
			if !strings.HasPrefix(part, s) {
				return false
			}
		case part != s:
			return false
		}
	}
	return r.prefix || !more
}

// outranks applies Vault's priority between two matching non-exact rules:
// the later first wildcard wins; then a rule not ending in "*"; then fewer
// "+" segments; then the longer pattern; then the lexicographically larger.
func (r *rule) outranks(o *rule) bool {
	if rf, of := r.wildPos(), o.wildPos(); rf != of {
		return rf > of
	}
	if r.prefix != o.prefix {
		return !r.prefix
	}
	if r.wildcards != o.wildcards {
		return r.wildcards < o.wildcards
	}
	if len(r.path) != len(o.path) {
		return len(r.path) > len(o.path)
	}
	return r.path > o.path
}

// wildPos is the byte offset of the rule's first wildcard.
func (r *rule) wildPos() int {
	if r.segs == nil {
		return len(r.path) // a plain prefix rule: the "*"
	}
	return r.firstWild
}

// checkWrapping enforces the wrapping TTL bounds; either bound makes
// response wrapping mandatory.
func (r *rule) checkWrapping(ttl time.Duration) string {
	if r.minWrap == 0 && r.maxWrap == 0 {
		return ""
	}
	switch {
	case ttl == 0:
		return "response wrapping is required on " + quote(r.pattern)
	case r.maxWrap != 0 && ttl > r.maxWrap:
		return "wrapping TTL " + ttl.String() + " is above the maximum of " + r.maxWrap.String()
	case r.minWrap != 0 && ttl < r.minWrap:
		return "wrapping TTL " + ttl.String() + " is below the minimum of " + r.minWrap.String()
	case r.minWrap != 0 && r.maxWrap != 0 && r.maxWrap < r.minWrap:
		return "merged policies give a max_wrapping_ttl below min_wrapping_ttl on " + quote(r.pattern)
	}
	return ""
}

// quote quotes a path or name for a denial reason.
func quote(s string) string { return strconv.Quote(s) }
