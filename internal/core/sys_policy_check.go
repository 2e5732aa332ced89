package core

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/cofferdev/coffer/internal/identity"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/policy"
	"github.com/cofferdev/coffer/internal/token"
)

// policyCheckPaths serve sys/policy-check, a Coffer extension that says
// whether a principal holds a capability on a path and which policy and
// rule decided. The principal is a list of policy names, a token, or an
// identity entity; with none of them, the caller's own token.
//
// Access is an ordinary ACL grant (update on "sys/policy-check"), as for
// sys/capabilities: sudo is not needed. The answer reveals the rule
// patterns of the evaluated policies, so grant it to the operators and CI
// jobs that audit policies, not to applications.
func (c *Core) policyCheckPaths(st *unsealedState) []*logical.Path {
	return []*logical.Path{{
		Pattern: "policy-check",
		Fields: map[string]*logical.Field{
			"capability": {Type: logical.TypeString, Required: true, Description: "capability or operation to check, e.g. read"},
			"path":       {Type: logical.TypeString, Required: true, Description: "request path, e.g. secret/data/app"},
			"policies":   {Type: logical.TypeStringSlice, Description: "evaluate these policy names"},
			"token":      {Type: logical.TypeString, Description: "evaluate this token's policies and its entity's"},
			"entity_id":  {Type: logical.TypeString, Description: "evaluate this entity's identity policies"},
		},
		Operations: ops(map[logical.Operation]logical.Handler{
			logical.UpdateOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				return c.handlePolicyCheck(ctx, st, req, d)
			}}),
		Help: "explain whether a token, entity or set of policies holds a capability on a path (Coffer extension)",
	}}
}

func (c *Core) handlePolicyCheck(ctx context.Context, st *unsealedState, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	capability, path := d.String("capability"), d.String("path")
	if capability == "" || path == "" {
		return nil, logical.InvalidRequest("\"capability\" and \"path\" are required")
	}
	names, err := policyCheckSubject(ctx, st, req, d)
	if err != nil {
		return nil, err
	}
	acl, err := st.policies.acl(ctx, names)
	if err != nil {
		return nil, err
	}
	ex, err := acl.Explain(capability, path)
	if errors.Is(err, policy.ErrUnknownCapability) {
		return nil, logical.InvalidRequest("unknown capability %q", capability)
	}
	if err != nil {
		return nil, err
	}
	unknown, err := unknownPolicies(ctx, st, names)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"allowed":          ex.Allowed,
		"capability":       ex.Capability,
		"capabilities":     ex.Capabilities,
		"decided_by":       map[string]any{"policy": strings.Join(ex.Policies, ","), "policies": nonNilNames(ex.Policies), "rule": ex.Rule},
		"reason":           ex.Reason,
		"policies":         nonNilNames(names),
		"unknown_policies": unknown,
	}), nil
}

// policyCheckSubject resolves the policy names to evaluate: at most one of
// policies, token and entity_id may be given; none means the caller.
func policyCheckSubject(ctx context.Context, st *unsealedState, req *logical.Request, d *logical.FieldData) ([]string, error) {
	_, hasPolicies := d.GetOk("policies")
	raw, entityID := d.String("token"), d.String("entity_id")
	given := 0
	for _, set := range []bool{hasPolicies, raw != "", entityID != ""} {
		if set {
			given++
		}
	}
	switch {
	case given > 1:
		return nil, logical.InvalidRequest("give only one of \"policies\", \"token\" and \"entity_id\"")
	case hasPolicies:
		return token.SanitizePolicies(d.Strings("policies"), false), nil
	case entityID != "":
		if st.identity == nil {
			return nil, logical.InvalidRequest("entity %q not found", entityID)
		}
		if _, err := st.identity.Entity(ctx, entityID); errors.Is(err, identity.ErrNotFound) {
			return nil, logical.InvalidRequest("entity %q not found", entityID)
		} else if err != nil {
			return nil, err
		}
		return entityPolicies(ctx, st, entityID, nil)
	case raw != "":
		te, err := st.tokens.Lookup(ctx, raw)
		if err != nil {
			return nil, logical.InvalidRequest("invalid token")
		}
		return entityPolicies(ctx, st, te.EntityID, te.Policies)
	case req.Caller != nil:
		return entityPolicies(ctx, st, req.Caller.EntityID, req.Caller.Policies)
	}
	return nil, logical.ErrPermissionDenied
}

// entityPolicies adds the identity policies of entityID (if any) to base,
// as the request pipeline does for a token. A disabled entity is an error:
// its tokens can do nothing at all.
func entityPolicies(ctx context.Context, st *unsealedState, entityID string, base []string) ([]string, error) {
	if entityID == "" || st.identity == nil {
		return token.SanitizePolicies(base, false), nil
	}
	ip, err := st.identity.Policies(ctx, entityID)
	if errors.Is(err, identity.ErrEntityDisabled) {
		return nil, logical.InvalidRequest("entity %q is disabled: its tokens are denied everything", entityID)
	}
	if err != nil {
		return nil, err
	}
	return token.SanitizePolicies(append(slices.Clone(base), ip...), false), nil
}

// unknownPolicies lists the names that match no stored policy; they grant
// nothing, which is worth telling someone checking least privilege.
func unknownPolicies(ctx context.Context, st *unsealedState, names []string) ([]string, error) {
	out := []string{}
	for _, n := range names {
		if n == rootPolicy {
			continue
		}
		p, err := st.policies.get(ctx, n)
		if err != nil {
			return nil, err
		}
		if p == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

func nonNilNames(names []string) []string {
	if names == nil {
		return []string{}
	}
	return names
}
