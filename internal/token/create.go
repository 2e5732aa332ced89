package token

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// DefaultCreatePath is the creation path recorded when CreateParams.Path is
// empty.
const DefaultCreatePath = "auth/token/create"

// CreateParams describe a token to create. Authorization (who may ask for
// what) is the caller's job; Create enforces only the rules that keep the
// token tree sound.
type CreateParams struct {
	// ID, if set, is the raw token to issue instead of a random one. Only the
	// core uses it (dev mode's chosen root token); the API refuses custom ids.
	ID string
	// Parent is the creating token, nil for logins and the root token.
	Parent *Entry
	// Policies are sanitised like Vault's: trimmed, lowercased, sorted,
	// deduplicated; "root" drops every other policy.
	Policies []string
	// NoDefaultPolicy leaves out (and strips) the "default" policy, which is
	// otherwise added.
	NoDefaultPolicy bool
	Meta            map[string]string
	// DisplayName is stored as given; empty means "token".
	DisplayName string
	// NumUses limits the token to that many requests; 0 is unlimited.
	NumUses int
	// TTL, ExplicitMaxTTL and Period follow Vault: TTL defaults to the system
	// default, everything is capped by the system max (and ExplicitMaxTTL)
	// counted from creation, and a periodic token's TTL is its period.
	TTL, ExplicitMaxTTL, Period time.Duration
	// Renewable defaults to true; tokens that never expire are never
	// renewable.
	Renewable *bool
	// BoundCIDRs restrict where the token may be used from. A child linked to
	// a parent inherits the parent's CIDRs when none are given.
	BoundCIDRs []netip.Prefix
	// Path is the creation path; empty means DefaultCreatePath.
	Path string
	// EntityID links the token to an identity entity. A linked child
	// inherits the parent's when empty.
	EntityID string
	// Orphan creates the token without linking it to Parent, which is then
	// only consulted for the use-limit and expiry rules.
	Orphan bool
	// NoExpiry lets a token with no TTL, period or explicit max TTL never
	// expire (root tokens).
	NoExpiry bool
	// Type is TypeService (the default when empty) or TypeBatch. A batch
	// token is never stored: it carries its entry, sealed under
	// Options.BatchKey. It has no accessor, uses limit, period or
	// cubbyhole, is never renewable and cannot be a root token.
	Type string
}

func (p *CreateParams) validate() error {
	switch {
	case p.NumUses < 0:
		return fmt.Errorf("%w: number of uses cannot be negative", ErrInvalidParams)
	case p.TTL < 0, p.ExplicitMaxTTL < 0, p.Period < 0:
		return fmt.Errorf("%w: durations cannot be negative", ErrInvalidParams)
	}
	if p.ID != "" && !validCustomID(p.ID) {
		return fmt.Errorf("%w: custom token ids are 1 to 128 letters, digits, '-' or '_'", ErrInvalidParams)
	}
	for _, c := range p.BoundCIDRs {
		if !c.IsValid() {
			return fmt.Errorf("%w: invalid bound CIDR", ErrInvalidParams)
		}
	}
	switch p.Type {
	case "", TypeService, TypeBatch:
	default:
		return fmt.Errorf("%w: unknown token type %q", ErrInvalidParams, p.Type)
	}
	return nil
}

// Create issues a new token and returns the raw token, which exists nowhere
// else. A service token is stored under its hash; a batch token is not
// stored at all (see CreateParams.Type).
func (s *Store) Create(ctx context.Context, p CreateParams) (raw string, e *Entry, err error) {
	if err := p.validate(); err != nil {
		return "", nil, err
	}
	if p.Parent != nil && p.Parent.Type == TypeBatch {
		return "", nil, fmt.Errorf("%w: batch tokens cannot create child tokens", ErrBatchToken)
	}
	if p.Parent != nil && p.Parent.NumUses != 0 {
		return "", nil, ErrRestrictedParent
	}
	if p.Type == TypeBatch {
		return s.createBatch(ctx, &p)
	}
	now := s.now()
	e = newEntry(&p, now)
	if p.Parent != nil && !p.Orphan {
		unlock := s.locks.lock(p.Parent.Hash)
		defer unlock()
		parent, err := s.loadLive(ctx, p.Parent.Hash, now)
		if err != nil {
			return "", nil, parentError(err)
		}
		linkParent(e, parent)
	}
	if err := s.setExpiry(e, &p, now); err != nil {
		return "", nil, err
	}
	if raw, err = s.assignIDs(e, p.ID); err != nil {
		return "", nil, err
	}
	if p.ID != "" {
		if _, err := s.view.Get(ctx, idKey(e.Hash)); err == nil {
			return "", nil, fmt.Errorf("%w: a token with that id already exists", ErrInvalidParams)
		} else if !errors.Is(err, storage.ErrNotFound) {
			return "", nil, err
		}
	}
	b, err := e.encode()
	if err != nil {
		return "", nil, err
	}
	if err := s.view.Transaction(ctx, indexOps(e, b)); err != nil {
		return "", nil, fmt.Errorf("store token: %w", err)
	}
	return raw, e.clone(), nil
}

// parentError maps a failed parent lookup to ErrParentInvalid.
func parentError(err error) error {
	if errors.Is(err, ErrInvalidToken) {
		return ErrParentInvalid
	}
	return err
}

// newEntry fills the fields that come straight from the parameters.
func newEntry(p *CreateParams, now time.Time) *Entry {
	e := &Entry{
		Policies:       SanitizePolicies(p.Policies, !p.NoDefaultPolicy),
		DisplayName:    p.DisplayName,
		NumUses:        p.NumUses,
		CreationTime:   now,
		ExplicitMaxTTL: p.ExplicitMaxTTL,
		Period:         p.Period,
		Renewable:      p.Renewable == nil || *p.Renewable,
		BoundCIDRs:     normalizeCIDRs(p.BoundCIDRs),
		Path:           p.Path,
		EntityID:       p.EntityID,
		Type:           TypeService,
		Orphan:         true,
	}
	if len(p.Meta) > 0 {
		e.Meta = maps.Clone(p.Meta)
	}
	if p.NoDefaultPolicy {
		e.Policies = slices.DeleteFunc(e.Policies, func(s string) bool { return s == "default" })
	}
	if e.DisplayName == "" {
		e.DisplayName = "token"
	}
	if e.Path == "" {
		e.Path = DefaultCreatePath
	}
	return e
}

// linkParent makes e a child of parent, inheriting its entity and, when e has
// none of its own, its CIDR binding so a child cannot escape it.
func linkParent(e, parent *Entry) {
	e.Parent = parent.Hash
	e.Orphan = false
	if e.EntityID == "" {
		e.EntityID = parent.EntityID
	}
	if len(e.BoundCIDRs) == 0 {
		e.BoundCIDRs = slices.Clone(parent.BoundCIDRs)
	}
}

// setExpiry computes the TTL and expiry time as Vault does at creation.
func (s *Store) setExpiry(e *Entry, p *CreateParams, now time.Time) error {
	if p.NoExpiry && p.TTL == 0 && p.Period == 0 {
		e.TTL = p.ExplicitMaxTTL
	} else {
		ttl, err := s.calculateTTL(now, now, 0, p.TTL, p.Period, p.ExplicitMaxTTL)
		if err != nil {
			return err
		}
		e.TTL = ttl
	}
	if e.TTL == 0 {
		if p.Parent != nil && p.Parent.expires() {
			return ErrNonExpiringChild
		}
		e.Renewable = false
		e.BoundCIDRs = nil
		return nil
	}
	e.ExpireTime = now.Add(e.TTL)
	return nil
}

// calculateTTL follows Vault's lease rules. The effective maximum is the
// system max, lowered by explicitMax; a periodic token gets its period
// (capped by that maximum) and is bounded in time only by explicitMax; any
// other token gets increment, else ttl, else the system default, and cannot
// live past start plus the effective maximum.
func (s *Store) calculateTTL(now, start time.Time, increment, ttl, period, explicitMax time.Duration) (time.Duration, error) {
	maxTTL := s.maxTTL()
	if explicitMax > 0 && explicitMax < maxTTL {
		maxTTL = explicitMax
	}
	var limit time.Time
	if period > 0 {
		ttl = min(period, maxTTL)
		if explicitMax > 0 {
			limit = start.Add(explicitMax)
		}
	} else {
		switch {
		case increment > 0:
			ttl = increment
		case ttl > 0:
		default:
			ttl = s.defaultTTL()
		}
		limit = start.Add(maxTTL)
	}
	if limit.IsZero() {
		return ttl, nil
	}
	left := limit.Sub(now)
	if left <= 0 {
		return 0, ErrPastMaxTTL
	}
	return min(ttl, left), nil
}

// assignIDs draws the raw token, accessor and cubbyhole id and sets the hash.
// A non-empty custom id replaces the random token.
func (s *Store) assignIDs(e *Entry, custom string) (string, error) {
	var ids [3]string
	for i := range ids {
		r, err := randomBase62(randomLen)
		if err != nil {
			return "", fmt.Errorf("generate token: %w", err)
		}
		ids[i] = r
	}
	raw := ServicePrefix + ids[0]
	if custom != "" {
		raw = custom
	}
	e.Hash = s.hasher.hash(raw)
	e.Accessor = ids[1]
	e.CubbyholeID = ids[2]
	return raw, nil
}

// SanitizePolicies normalises a policy list as Vault does: names are trimmed
// and lowercased, empty names dropped, "root" replaces every other policy,
// "default" is added when addDefault is set (except next to "root"), and the
// result is sorted and deduplicated.
func SanitizePolicies(policies []string, addDefault bool) []string {
	out := make([]string, 0, len(policies)+1)
	for _, p := range policies {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if p == "root" {
			return []string{"root"}
		}
		out = append(out, p)
	}
	if addDefault {
		out = append(out, "default")
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// normalizeCIDRs masks each prefix and turns IPv4-mapped IPv6 prefixes into
// IPv4 ones, so CheckCIDR compares like with like.
func normalizeCIDRs(in []netip.Prefix) []netip.Prefix {
	if len(in) == 0 {
		return nil
	}
	out := make([]netip.Prefix, 0, len(in))
	for _, p := range in {
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out
}
