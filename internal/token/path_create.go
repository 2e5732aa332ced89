package token

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// nonAssignable reports the internal policies no token may be given.
func nonAssignable(policy string) bool {
	return policy == "response-wrapping" || policy == "control-group"
}

func createFields() map[string]*logical.Field {
	return map[string]*logical.Field{
		"id":                {Type: logical.TypeString, Description: "Custom token id (not supported)."},
		"policies":          {Type: logical.TypeStringSlice, Description: "Policies of the token."},
		"meta":              {Type: logical.TypeKVPairs, Description: "Metadata of the token."},
		"no_parent":         {Type: logical.TypeBool, Description: "Create an orphan token (needs sudo)."},
		"no_default_policy": {Type: logical.TypeBool, Description: "Leave out the default policy."},
		"renewable":         {Type: logical.TypeBool, Default: true, Description: "Whether the token can be renewed."},
		"ttl":               {Type: logical.TypeDuration, Description: "Initial TTL."},
		"lease":             {Type: logical.TypeDuration, Description: "Deprecated alias of ttl."},
		"type":              {Type: logical.TypeString, Description: "Token type: service (or default) or batch."},
		"explicit_max_ttl":  {Type: logical.TypeDuration, Description: "Hard limit on the token's lifetime."},
		"display_name":      {Type: logical.TypeString, Description: "Display name, prefixed with token-."},
		"num_uses":          {Type: logical.TypeInt, Description: "Maximum number of uses; 0 is unlimited."},
		"period":            {Type: logical.TypeDuration, Description: "Period of a periodic token (needs sudo)."},
		"entity_alias":      {Type: logical.TypeString, Description: "Entity alias to create the token for (with a role that allows it)."},
		"bound_cidrs":       {Type: logical.TypeStringSlice, Description: "CIDRs the token may be used from (Coffer extension; Vault offers this only on token roles)."},
	}
}

func (b *backend) createPaths() []*logical.Path {
	return []*logical.Path{
		{
			Pattern:    "create",
			Fields:     createFields(),
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleCreate(false)},
			Help:       "Create a token as a child of the calling token.",
		},
		{
			Pattern:    "create-orphan",
			Fields:     createFields(),
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleCreate(true)},
			Help:       "Create an orphan token.",
		},
		{
			Pattern:    "create/" + roleNamePattern,
			Fields:     createFields(),
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleCreateRole},
			Help:       "Create a token against a token role.",
		},
	}
}

// createRequest is the parsed body of a create call.
type createRequest struct {
	policies        []string
	meta            map[string]string
	noParent        bool
	noDefaultPolicy bool
	renewable       *bool
	ttl             time.Duration
	explicitMaxTTL  time.Duration
	period          time.Duration
	displayName     string
	numUses         int
	boundCIDRs      []netip.Prefix
	// typ is TypeService, TypeBatch, or "" when the client left the
	// choice to the server (service, unless a role says otherwise).
	typ         string
	entityAlias string
	// askedPeriod records that the client asked for a period, which needs
	// sudo even when a role supplies one too.
	askedPeriod bool
	// Set from a role by applyRole.
	roleOrphan bool
	pathSuffix string
}

func parseCreate(d *logical.FieldData) (*createRequest, error) {
	if d.String("id") != "" {
		return nil, errorf("custom token ids are not supported")
	}
	typ := ""
	switch d.String("type") {
	case "", "default":
	case TypeService:
		typ = TypeService
	case TypeBatch:
		typ = TypeBatch
	default:
		return nil, errorf("invalid 'token_type' value")
	}
	r := &createRequest{
		policies:        d.Strings("policies"),
		meta:            d.KVPairs("meta"),
		noParent:        d.Bool("no_parent"),
		noDefaultPolicy: d.Bool("no_default_policy"),
		ttl:             d.Duration("ttl"),
		explicitMaxTTL:  d.Duration("explicit_max_ttl"),
		period:          d.Duration("period"),
		displayName:     d.String("display_name"),
		numUses:         d.Int("num_uses"),
		typ:             typ,
		entityAlias:     d.String("entity_alias"),
	}
	r.askedPeriod = r.period > 0
	if r.numUses < 0 {
		return nil, errorf("number of uses cannot be negative")
	}
	for _, c := range d.Strings("bound_cidrs") {
		p, err := parseCIDR(c)
		if err != nil {
			return nil, errorf("invalid bound_cidrs entry %q: %v", c, err)
		}
		r.boundCIDRs = append(r.boundCIDRs, p)
	}
	if r.ttl == 0 {
		r.ttl = d.Duration("lease")
	}
	if v, ok := d.GetOk("renewable"); ok {
		renewable := v.(bool)
		r.renewable = &renewable
	}
	return r, nil
}

// checkBatch settles the token type ("" becomes service) and refuses what
// batch tokens cannot have, with Vault's words.
func (r *createRequest) checkBatch() error {
	if r.typ == "" {
		r.typ = TypeService
	}
	if r.typ != TypeBatch {
		return nil
	}
	switch {
	case r.numUses != 0:
		return errorf("batch tokens cannot have a use limit")
	case r.period != 0:
		return errorf("batch tokens cannot be periodic")
	}
	r.renewable = nil // batch tokens are never renewable; the store forces it
	return nil
}

// handleCreate serves create and create-orphan with Vault's rules.
func (b *backend) handleCreate(orphan bool) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		return b.create(ctx, req, d, orphan, nil)
	}
}

// handleCreateRole serves create/<role>.
func (b *backend) handleCreateRole(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.String("role_name")
	role, err := loadRole(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if role == nil {
		return nil, errorf("unknown role %s", name)
	}
	return b.create(ctx, req, d, false, role)
}

// create issues a token as a child of the caller (or an orphan), shaped
// and bounded by role when there is one.
func (b *backend) create(ctx context.Context, req *logical.Request, d *logical.FieldData, orphan bool, role *Role) (*logical.Response, error) {
	if err := requireCaller(req); err != nil {
		return nil, err
	}
	r, err := parseCreate(d)
	if err != nil {
		return nil, err
	}
	if err := r.applyRole(role); err != nil {
		return nil, err
	}
	if err := r.checkBatch(); err != nil {
		return nil, err
	}
	parent, err := b.creator(ctx, req)
	if err != nil {
		return nil, err
	}
	if role != nil && len(r.boundCIDRs) == 0 {
		// A role token, orphan or not, keeps its creator's binding, so a
		// CIDR-bound token cannot use a role to escape it.
		r.boundCIDRs = parent.BoundCIDRs
	}
	sudo := isSudo(req)
	policies, err := tokenPolicies(parent, r, role, sudo)
	if err != nil {
		return nil, err
	}
	if err := r.checkPrivileges(policies, sudo); err != nil {
		return nil, err
	}
	entityID, err := b.entityFor(ctx, r.entityAlias)
	if err != nil {
		return nil, err
	}
	raw, e, err := b.store.Create(ctx, CreateParams{
		Parent:          parent,
		Policies:        policies,
		NoDefaultPolicy: !slices.Contains(policies, "default"),
		Meta:            r.meta,
		DisplayName:     displayName(r.displayName),
		NumUses:         r.numUses,
		TTL:             r.ttl,
		ExplicitMaxTTL:  r.explicitMaxTTL,
		Period:          r.period,
		Renewable:       r.renewable,
		BoundCIDRs:      r.boundCIDRs,
		EntityID:        entityID,
		Path:            "auth/token/" + req.Path + r.pathSuffix,
		Orphan:          orphan || r.noParent || r.roleOrphan,
		NoExpiry:        slices.Contains(policies, "root"),
		Type:            r.typ,
	})
	if err != nil {
		return nil, storeError(err)
	}
	return authResponse(raw, e, e.TTL), nil
}

// checkPrivileges refuses a batch root token, and an orphan or periodic
// token the request asks for without sudo.
func (r *createRequest) checkPrivileges(policies []string, sudo bool) error {
	switch {
	case r.typ == TypeBatch && slices.Contains(policies, "root"):
		return errorf("batch tokens cannot be root tokens")
	case r.noParent && !sudo:
		return errorf("root or sudo privileges required to create orphan token")
	case r.askedPeriod && !sudo:
		return errorf("root or sudo privileges required to create periodic token")
	}
	return nil
}

// entityFor returns the entity a token created with the entity alias
// belongs to ("" for none, so a child inherits its parent's). It is asked
// last, once every check has passed, since it may create the entity.
func (b *backend) entityFor(ctx context.Context, alias string) (string, error) {
	if alias == "" {
		return "", nil
	}
	if b.store.opts.EntityForAlias == nil {
		return "", errorf("entity aliases are not available on this server")
	}
	id, err := b.store.opts.EntityForAlias(ctx, alias)
	if err != nil {
		return "", storeError(err)
	}
	return id, nil
}

// creator returns the calling token's entry, if it may create tokens: a
// batch token or one with a use limit may not.
func (b *backend) creator(ctx context.Context, req *logical.Request) (*Entry, error) {
	parent, _, err := b.callerEntry(ctx, req, false)
	if err != nil {
		return nil, notFound(err, logical.KindInvalidRequest, "parent token lookup failed: no parent found")
	}
	if parent.Type == TypeBatch {
		return nil, errorf("batch tokens cannot create child tokens")
	}
	if parent.NumUses != 0 {
		return nil, errorf("restricted use token cannot generate child tokens")
	}
	return parent, nil
}

// parseCIDR accepts a CIDR or a bare address (a single-host prefix).
func parseCIDR(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not a CIDR or IP address")
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// tokenPolicies decides a new token's policies: by the role's lists when
// it has any (rolePolicies), else as Vault does for a plain create: no
// policies inherit the parent's; otherwise a caller without sudo may only
// ask for a subset of the parent's policies, and gets "default" only if
// the parent has it. Internal policies are never assignable, and only a
// root parent can make a root token.
func tokenPolicies(parent *Entry, r *createRequest, role *Role, sudo bool) ([]string, error) {
	var out []string
	if role.hasPolicyLists() {
		var err error
		if out, err = rolePolicies(parent, r, role); err != nil {
			return nil, err
		}
	} else {
		var err error
		if out, err = childPolicies(parent, r, sudo); err != nil {
			return nil, err
		}
	}
	if r.noDefaultPolicy {
		out = slices.DeleteFunc(out, func(p string) bool { return p == "default" })
	}
	for _, p := range out {
		if nonAssignable(p) {
			return nil, errorf("cannot assign policy %q", p)
		}
	}
	if slices.Contains(out, "root") && !slices.Contains(parent.Policies, "root") {
		return nil, errorf("root tokens may not be created without parent token being root")
	}
	return out, nil
}

// childPolicies is tokenPolicies' rule for a create without role lists.
func childPolicies(parent *Entry, r *createRequest, sudo bool) ([]string, error) {
	var policies []string
	addDefault := false
	switch {
	case len(r.policies) == 0:
		policies = parent.Policies
	case !sudo:
		policies = r.policies
		asked := SanitizePolicies(r.policies, false)
		held := SanitizePolicies(parent.Policies, false)
		for _, p := range asked {
			if !slices.Contains(held, p) {
				return nil, errorf("child policies must be subset of parent")
			}
		}
		addDefault = !r.noDefaultPolicy && slices.Contains(parent.Policies, "default")
	default:
		policies = r.policies
		addDefault = !r.noDefaultPolicy
	}
	return SanitizePolicies(policies, addDefault), nil
}

// displayName builds "token-<name>" with every run of characters other than
// letters, digits and '-' replaced by '-', and no trailing '-', as Vault
// does; an empty name gives "token".
func displayName(name string) string {
	if name == "" {
		return "token"
	}
	var sb strings.Builder
	sb.WriteString("token-")
	inRun := false
	for _, c := range name {
		ok := c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		switch {
		case ok:
			sb.WriteRune(c)
			inRun = false
		case !inRun:
			sb.WriteByte('-')
			inRun = true
		}
	}
	return strings.TrimSuffix(sb.String(), "-")
}
