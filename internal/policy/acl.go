package policy

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// RootPolicyName is the policy that makes an ACL allow everything.
const RootPolicyName = "root"

// allCapabilities is every capability but deny: what a root ACL holds.
const allCapabilities = Capability(1<<numCapabilities-1) &^ DenyCapability

// ACL is a compiled set of policies. It is immutable after NewACL and safe
// for concurrent use.
type ACL struct {
	root bool
	// exact holds rules without wildcards, by path.
	exact map[string]*rule
	// prefix holds rules ending in "*" (and no "+"), by path minus the "*".
	prefix map[string]*rule
	// prefixLens are the distinct key lengths of prefix, longest first, so
	// the longest matching prefix is found with one map lookup per length.
	prefixLens []int
	// wild holds rules with "+" segments by their first segment, which is
	// literal for all but wildAny's; a path only tries its own bucket.
	wild    map[string][]*rule
	wildAny []*rule
}

// rule is the merge of every policy's block for one path pattern.
type rule struct {
	pattern string // as written: "secret/+/team-*"
	path    string // pattern without a trailing "*"
	prefix  bool
	// For "+" rules: path split on "/", the byte offset of the first "+"
	// segment and the number of "+" segments.
	segs      []string
	firstWild int
	wildcards int

	caps     Capability
	allowed  map[string][]any
	denied   map[string][]any
	required []string
	minWrap  time.Duration
	maxWrap  time.Duration
	events   []string

	// grants[i] lists the policies that granted bit i; names[i] is the same
	// list joined by "," and allNames every policy that has this pattern.
	grants   [numCapabilities][]string
	names    [numCapabilities]string
	allNames string
}

// NewACL compiles policies into an ACL, merging blocks for the same pattern
// across policies as Vault does. nil policies are skipped. A policy named
// "root" makes a root ACL, which may not be combined with other policies.
// Templated rules that were not filled in by Render are skipped: they match
// nothing, as in Vault for a token without an entity.
func NewACL(policies ...*Policy) (*ACL, error) {
	var live []*Policy
	root := false
	for _, p := range policies {
		if p == nil {
			continue
		}
		live = append(live, p)
		root = root || p.Name == RootPolicyName
	}
	if root {
		if len(live) != 1 {
			return nil, ErrRootWithOthers
		}
		return &ACL{root: true}, nil
	}
	a := &ACL{exact: map[string]*rule{}, prefix: map[string]*rule{}}
	wild := map[string]*rule{}
	for _, p := range live {
		for _, pr := range p.Paths {
			if pr.Templated {
				continue
			}
			table := a.exact
			switch {
			case pr.SegmentWildcards:
				table = wild
			case pr.Prefix:
				table = a.prefix
			}
			key := strings.TrimSuffix(pr.Path, "*")
			if pr.SegmentWildcards {
				key = pr.Path
			}
			if r, ok := table[key]; ok {
				r.merge(p.Name, pr)
			} else {
				table[key] = newRule(p.Name, pr)
			}
		}
	}
	a.finish(wild)
	return a, nil
}

// finish fills the derived lookup structures once every rule is merged.
func (a *ACL) finish(wild map[string]*rule) {
	lens := map[int]bool{}
	for k, r := range a.prefix {
		lens[len(k)] = true
		r.finish()
	}
	for n := range lens {
		a.prefixLens = append(a.prefixLens, n)
	}
	slices.SortFunc(a.prefixLens, func(x, y int) int { return cmp.Compare(y, x) })
	for _, r := range a.exact {
		r.finish()
	}
	a.wild = map[string][]*rule{}
	for _, r := range wild {
		r.finish()
		if first := r.segs[0]; first == "+" {
			a.wildAny = append(a.wildAny, r)
		} else {
			a.wild[first] = append(a.wild[first], r)
		}
	}
}

// IsRoot reports whether the ACL came from the root policy.
func (a *ACL) IsRoot() bool { return a.root }

// newRule starts a rule from one policy's block, copying what merges mutate.
func newRule(policy string, pr *PathRule) *rule {
	r := &rule{
		pattern:  pr.Path,
		path:     strings.TrimSuffix(pr.Path, "*"),
		prefix:   pr.Prefix,
		caps:     pr.Capabilities,
		allowed:  cloneParams(pr.AllowedParameters),
		denied:   cloneParams(pr.DeniedParameters),
		required: slices.Clone(pr.RequiredParameters),
		minWrap:  pr.MinWrappingTTL,
		maxWrap:  pr.MaxWrappingTTL,
		events:   slices.Clone(pr.SubscribeEventTypes),
	}
	if pr.SegmentWildcards {
		r.segs = strings.Split(r.path, "/")
		r.firstWild = -1
		offset := 0
		for _, s := range r.segs {
			if s == "+" {
				r.wildcards++
				if r.firstWild < 0 {
					r.firstWild = offset
				}
			}
			offset += len(s) + 1
		}
	}
	r.grant(policy, pr.Capabilities)
	return r
}

// merge folds another policy's block for the same pattern into r, following
// Vault: deny wins and clears the parameter rules; capabilities are unioned;
// the smaller of two wrapping TTL bounds is kept; parameter lists are
// unioned, an empty list (any value) absorbing a non-empty one.
func (r *rule) merge(policy string, pr *PathRule) {
	switch {
	case r.caps&DenyCapability != 0:
		r.grant(policy, pr.Capabilities&DenyCapability)
		return
	case pr.Capabilities&DenyCapability != 0:
		r.caps = DenyCapability
		r.allowed, r.denied = nil, nil
		r.grant(policy, DenyCapability)
		return
	}
	r.caps |= pr.Capabilities
	r.grant(policy, pr.Capabilities)
	r.maxWrap = minPositive(r.maxWrap, pr.MaxWrappingTTL)
	r.minWrap = minPositive(r.minWrap, pr.MinWrappingTTL)
	r.allowed = mergeParams(r.allowed, pr.AllowedParameters)
	r.denied = mergeParams(r.denied, pr.DeniedParameters)
	for _, p := range pr.RequiredParameters {
		if !slices.Contains(r.required, p) {
			r.required = append(r.required, p)
		}
	}
	for _, e := range pr.SubscribeEventTypes {
		if !slices.Contains(r.events, e) {
			r.events = append(r.events, e)
		}
	}
}

// grant records policy as granting each bit of caps.
func (r *rule) grant(policy string, caps Capability) {
	for i := range numCapabilities {
		if caps&(1<<i) != 0 && !slices.Contains(r.grants[i], policy) {
			r.grants[i] = append(r.grants[i], policy)
		}
	}
}

// finish joins the granting policy names so Check can report them without
// allocating.
func (r *rule) finish() {
	var all []string
	for i, g := range r.grants {
		slices.Sort(g)
		r.names[i] = strings.Join(g, ",")
		all = append(all, g...)
	}
	slices.Sort(all)
	r.allNames = strings.Join(slices.Compact(all), ",")
}

// minPositive returns the smaller of two bounds, ignoring zero (unset).
func minPositive(a, b time.Duration) time.Duration {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// mergeParams merges parameter rules: an empty list on either side means any
// value; otherwise the value lists are concatenated.
func mergeParams(dst, src map[string][]any) map[string][]any {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		return cloneParams(src)
	}
	for k, v := range src {
		old, ok := dst[k]
		if len(v) == 0 || (ok && len(old) == 0) {
			dst[k] = []any{}
			continue
		}
		dst[k] = append(slices.Clone(v), old...)
	}
	return dst
}

// cloneParams copies a parameter map and its value lists (values themselves
// are never mutated).
func cloneParams(m map[string][]any) map[string][]any {
	if m == nil {
		return nil
	}
	out := make(map[string][]any, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}
