package jwt

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// applyRoleFields copies the role fields the client sent into r.
func applyRoleFields(r *role, d *logical.FieldData) error {
	strs := map[string]*string{
		"role_type":         &r.RoleType,
		"user_claim":        &r.UserClaim,
		"bound_subject":     &r.BoundSubject,
		"bound_claims_type": &r.BoundClaimsType,
		"groups_claim":      &r.GroupsClaim,
	}
	for name, dst := range strs {
		if v, ok := d.GetOk(name); ok {
			*dst = strings.TrimSpace(v.(string))
		}
	}
	lists := map[string]*[]string{
		"bound_audiences":       &r.BoundAudiences,
		"oidc_scopes":           &r.OIDCScopes,
		"allowed_redirect_uris": &r.AllowedRedirectURIs,
	}
	for name, dst := range lists {
		if v, ok := d.GetOk(name); ok {
			*dst = v.([]string)
		}
	}
	bools := map[string]*bool{
		"user_claim_json_pointer": &r.UserClaimJSONPointer,
		"verbose_oidc_logging":    &r.VerboseOIDCLogging,
	}
	for name, dst := range bools {
		if v, ok := d.GetOk(name); ok {
			*dst = v.(bool)
		}
	}
	if v, ok := d.GetOk("claim_mappings"); ok {
		r.ClaimMappings = v.(map[string]string)
	}
	if v, ok := d.GetOk("max_age"); ok {
		r.MaxAge = int64(v.(time.Duration) / time.Second)
	}
	if v, ok := d.GetOk("bound_claims"); ok {
		bc, err := parseBoundClaims(v)
		if err != nil {
			return err
		}
		r.BoundClaims = bc
	}
	return applyLeeways(r, d)
}

// applyLeeways copies the leeway fields the client sent into r.
func applyLeeways(r *role, d *logical.FieldData) error {
	leeways := map[string]*int64{
		"clock_skew_leeway": &r.ClockSkewLeeway,
		"expiration_leeway": &r.ExpirationLeeway,
		"not_before_leeway": &r.NotBeforeLeeway,
	}
	for name, dst := range leeways {
		v, ok := d.GetOk(name)
		if !ok {
			continue
		}
		secs, err := parseLeeway(v)
		if err != nil {
			return logical.InvalidRequest("field %q: %v", name, err)
		}
		*dst = secs
	}
	return nil
}

// parseLeeway reads seconds (a number or numeric string, -1 for none) or a
// duration string.
func parseLeeway(v any) (int64, error) {
	if i, err := logical.ToInt(v); err == nil {
		if i < -1 {
			return 0, errors.New("expected seconds, -1 or a duration")
		}
		return int64(i), nil
	}
	d, err := logical.ParseDuration(v)
	if err != nil {
		return 0, errors.New("expected seconds, -1 or a duration")
	}
	return int64(d / time.Second), nil
}

// parseBoundClaims accepts an object (or a JSON object in a string, as
// the CLI sends it) whose values are strings or lists of strings.
func parseBoundClaims(v any) (map[string][]string, error) {
	if s, ok := v.(string); ok {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return nil, logical.InvalidRequest("bound_claims: expected a JSON object")
		}
		v = m
	}
	in, ok := v.(map[string]any)
	if !ok {
		return nil, logical.InvalidRequest("bound_claims: expected an object")
	}
	out := make(map[string][]string, len(in))
	for k, v := range in {
		switch x := v.(type) {
		case string:
			out[k] = []string{x}
		case []any:
			vals := make([]string, 0, len(x))
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, logical.InvalidRequest("bound_claims: values of %q must be strings", k)
				}
				vals = append(vals, s)
			}
			out[k] = vals
		case []string:
			out[k] = x
		default:
			return nil, logical.InvalidRequest("bound_claims: values of %q must be a string or a list of strings", k)
		}
	}
	return out, nil
}
