// Package tokenutil holds the token_* settings every auth method's roles
// share (Vault's tokenutil fields), their parsing and their effect on a
// login's logical.Auth.
package tokenutil

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/logical"
)

// Token types a role may ask for.
const (
	TypeDefault = "default"
	TypeService = "service"
	TypeBatch   = "batch"
)

// Params are the token settings of a role or an auth method's config.
type Params struct {
	TTL             time.Duration  `json:"token_ttl"`
	MaxTTL          time.Duration  `json:"token_max_ttl"`
	ExplicitMaxTTL  time.Duration  `json:"token_explicit_max_ttl"`
	Period          time.Duration  `json:"token_period"`
	Policies        []string       `json:"token_policies"`
	BoundCIDRs      []netip.Prefix `json:"token_bound_cidrs"`
	NoDefaultPolicy bool           `json:"token_no_default_policy"`
	NumUses         int            `json:"token_num_uses"`
	Type            string         `json:"token_type"`
}

// AddFields adds the token_* fields to a path's schema, plus the
// deprecated "policies", "ttl", "max_ttl" and "period" spellings Vault still
// accepts, and returns the schema.
func AddFields(fields map[string]*logical.Field) map[string]*logical.Field {
	if fields == nil {
		fields = map[string]*logical.Field{}
	}
	add := func(t logical.FieldType, desc string, names ...string) {
		for _, n := range names {
			fields[n] = &logical.Field{Type: t, Description: desc}
		}
	}
	add(logical.TypeDuration, "default TTL of issued tokens", "token_ttl", "ttl")
	add(logical.TypeDuration, "maximum lifetime of issued tokens", "token_max_ttl", "max_ttl")
	add(logical.TypeDuration, "hard cap on the lifetime of issued tokens", "token_explicit_max_ttl")
	add(logical.TypeDuration, "period of issued periodic tokens", "token_period", "period")
	add(logical.TypeStringSlice, "policies of issued tokens", "token_policies", "policies")
	add(logical.TypeStringSlice, "CIDRs issued tokens may be used from", "token_bound_cidrs")
	add(logical.TypeBool, "leave the default policy off issued tokens", "token_no_default_policy")
	add(logical.TypeInt, "uses of issued tokens; 0 is unlimited", "token_num_uses")
	add(logical.TypeString, "service, batch or default", "token_type")
	return fields
}

// Pick returns the value of the first of names the client sent, so a
// field's new spelling wins over its deprecated one.
func Pick(d *logical.FieldData, names ...string) (any, bool) {
	for _, n := range names {
		if _, declared := d.Schema[n]; !declared {
			continue
		}
		if v, ok := d.GetOk(n); ok {
			return v, true
		}
	}
	return nil, false
}

// Parse updates p from the fields the client sent, leaving the others as
// they are, and validates the result.
func (p *Params) Parse(d *logical.FieldData) error {
	durs := []struct {
		dst   *time.Duration
		names []string
	}{
		{&p.TTL, []string{"token_ttl", "ttl"}},
		{&p.MaxTTL, []string{"token_max_ttl", "max_ttl"}},
		{&p.ExplicitMaxTTL, []string{"token_explicit_max_ttl"}},
		{&p.Period, []string{"token_period", "period"}},
	}
	for _, f := range durs {
		if v, ok := Pick(d, f.names...); ok {
			*f.dst = v.(time.Duration)
		}
	}
	if v, ok := Pick(d, "token_policies", "policies"); ok {
		p.Policies = sanitizePolicies(v.([]string))
	}
	if v, ok := Pick(d, "token_bound_cidrs"); ok {
		cidrs, err := ParseCIDRs(v.([]string))
		if err != nil {
			return logical.InvalidRequest("token_bound_cidrs: %v", err)
		}
		p.BoundCIDRs = cidrs
	}
	if v, ok := Pick(d, "token_no_default_policy"); ok {
		p.NoDefaultPolicy = v.(bool)
	}
	if v, ok := Pick(d, "token_num_uses"); ok {
		p.NumUses = v.(int)
	}
	if v, ok := Pick(d, "token_type"); ok {
		p.Type = strings.ToLower(strings.TrimSpace(v.(string)))
	}
	return p.Validate()
}

// Validate checks the settings for consistency.
func (p *Params) Validate() error {
	switch {
	case p.TTL < 0 || p.MaxTTL < 0 || p.ExplicitMaxTTL < 0 || p.Period < 0:
		return logical.InvalidRequest("token TTLs cannot be negative")
	case p.MaxTTL > 0 && p.TTL > p.MaxTTL:
		return logical.InvalidRequest("token_ttl %s exceeds token_max_ttl %s", p.TTL, p.MaxTTL)
	case p.NumUses < 0:
		return logical.InvalidRequest("token_num_uses cannot be negative")
	}
	switch p.Type {
	case "", TypeDefault, TypeService, "default-service", "default-batch":
	case TypeBatch:
		if p.Period > 0 {
			return logical.InvalidRequest("batch tokens cannot be periodic")
		}
		if p.NumUses > 0 {
			return logical.InvalidRequest("batch tokens cannot have a use limit")
		}
	default:
		return logical.InvalidRequest("invalid token_type %q: want service, batch or default", p.Type)
	}
	return nil
}

// Data returns the settings as a role read shows them (durations in
// seconds, as Vault).
func (p *Params) Data(into map[string]any) map[string]any {
	if into == nil {
		into = map[string]any{}
	}
	cidrs := make([]string, 0, len(p.BoundCIDRs))
	for _, c := range p.BoundCIDRs {
		cidrs = append(cidrs, c.String())
	}
	typ := p.Type
	if typ == "" {
		typ = TypeDefault
	}
	into["token_ttl"] = int64(p.TTL.Seconds())
	into["token_max_ttl"] = int64(p.MaxTTL.Seconds())
	into["token_explicit_max_ttl"] = int64(p.ExplicitMaxTTL.Seconds())
	into["token_period"] = int64(p.Period.Seconds())
	into["token_policies"] = authutil.NonNil(p.Policies)
	into["token_bound_cidrs"] = cidrs
	into["token_no_default_policy"] = p.NoDefaultPolicy
	into["token_num_uses"] = p.NumUses
	into["token_type"] = typ
	return into
}

// Auth builds the logical.Auth of a login from these settings; the caller
// adds the alias, metadata and display name.
func (p *Params) Auth() *logical.Auth {
	typ := p.Type
	if typ == TypeDefault {
		typ = ""
	}
	return &logical.Auth{
		Policies:        slices.Clone(p.Policies),
		TTL:             p.TTL,
		MaxTTL:          p.MaxTTL,
		ExplicitMaxTTL:  p.ExplicitMaxTTL,
		Period:          p.Period,
		Renewable:       true,
		NumUses:         p.NumUses,
		TokenType:       typ,
		NoDefaultPolicy: p.NoDefaultPolicy,
		BoundCIDRs:      slices.Clone(p.BoundCIDRs),
	}
}

// Renewal is what an auth method's AuthRenewer answers for a token issued
// under these settings: the settings' Auth, or, when tokenPolicies (the
// token's own policies) are no longer what they give, an error refusing the
// renewal. As Vault's EquivalentPolicies, "default" is left out of the
// comparison: the core adds it to tokens.
func (p *Params) Renewal(tokenPolicies []string) (*logical.Auth, error) {
	if !EquivalentPolicies(p.Policies, tokenPolicies) {
		return nil, logical.Errorf(logical.KindPermissionDenied, "the login's policies have changed since the token was issued; log in again")
	}
	return p.Auth(), nil
}

// RenewLogin is the logical.AuthRenewer answer of a method whose logins
// each come from one stored entry (a user, a role): metadataKey names the
// token's metadata field that holds the entry's name, what says what the
// entry is ("user", "role"), and load reads the entry's settings (nil, nil
// when it is gone). A token whose entry is gone is not renewed; one whose
// entry's policies changed neither (Renewal).
func RenewLogin(token *logical.Auth, what, metadataKey string, load func(name string) (*Params, error)) (*logical.Auth, error) {
	name := token.Metadata[metadataKey]
	if name == "" {
		return nil, logical.Errorf(logical.KindPermissionDenied, "the token's login names no %s; log in again", what)
	}
	p, err := load(name)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, logical.Errorf(logical.KindPermissionDenied, "the %s %q this token logged in with no longer exists; log in again", what, name)
	}
	return p.Renewal(token.TokenPolicies)
}

// EquivalentPolicies reports whether a and b name the same policies, case,
// order, repeats and "default" aside.
func EquivalentPolicies(a, b []string) bool {
	strip := func(in []string) []string {
		return slices.DeleteFunc(sanitizePolicies(in), func(p string) bool { return p == "default" })
	}
	return slices.Equal(strip(a), strip(b))
}

// Clone returns a deep copy.
func (p *Params) Clone() Params {
	c := *p
	c.Policies = slices.Clone(p.Policies)
	c.BoundCIDRs = slices.Clone(p.BoundCIDRs)
	return c
}

// ParseCIDRs parses CIDRs or bare addresses (as /32 or /128).
func ParseCIDRs(in []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if pfx, err := netip.ParsePrefix(s); err == nil {
			out = append(out, pfx.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, &cidrError{s}
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

type cidrError struct{ s string }

func (e *cidrError) Error() string { return "invalid CIDR or address " + strconv.Quote(e.s) }

// ContainsAddr reports whether addr is in any of cidrs; an empty list allows
// every address.
func ContainsAddr(cidrs []netip.Prefix, remote string) bool {
	if len(cidrs) == 0 {
		return true
	}
	a, err := netip.ParseAddr(remote)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, c := range cidrs {
		if c.Contains(a) {
			return true
		}
	}
	return false
}

// sanitizePolicies trims, lowercases, deduplicates and sorts policy names.
func sanitizePolicies(in []string) []string {
	set := map[string]bool{}
	for _, p := range in {
		p = strings.ToLower(strings.TrimSpace(p))
		if p != "" {
			set[p] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}
