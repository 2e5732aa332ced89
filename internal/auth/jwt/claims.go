package jwt

import (
	"crypto/subtle"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/logical"
)

// checkOptions say which flow a token came from and what it must carry.
type checkOptions struct {
	now    time.Time
	issuer string // "" accepts any issuer
	// clientID, for OIDC ID tokens, must be one of the audiences.
	clientID string
	// nonce, for OIDC ID tokens, must equal the "nonce" claim.
	nonce string
	oidc  bool
}

func invalid(msg string, args ...any) error {
	return logical.InvalidRequest("error validating token: "+msg, args...)
}

// checkClaims applies the registered-claim checks (iss, aud, exp, nbf,
// iat, nonce, auth_time) and the role's bound subject and bound claims.
func checkClaims(claims map[string]any, r *role, o checkOptions) error {
	if o.issuer != "" {
		if iss, _ := claims["iss"].(string); iss != o.issuer {
			return invalid("invalid issuer (iss) claim")
		}
	}
	if err := checkAudience(claims, r, o); err != nil {
		return err
	}
	if err := checkTimes(claims, r, o.now); err != nil {
		return err
	}
	if o.oidc {
		n, _ := claims["nonce"].(string)
		if o.nonce == "" || subtle.ConstantTimeCompare([]byte(n), []byte(o.nonce)) != 1 {
			return invalid("invalid nonce claim")
		}
		if err := checkMaxAge(claims, r, o.now); err != nil {
			return err
		}
	}
	if r.BoundSubject != "" {
		if sub, _ := claims["sub"].(string); sub != r.BoundSubject {
			return invalid("sub claim does not match bound subject")
		}
	}
	return checkBoundClaims(claims, r.BoundClaims, r.BoundClaimsType == boundClaimsGlob)
}

func checkAudience(claims map[string]any, r *role, o checkOptions) error {
	auds, ok := stringList(claims["aud"])
	if !ok {
		return invalid("invalid audience (aud) claim")
	}
	if o.oidc && !slices.Contains(auds, o.clientID) {
		return invalid("invalid audience (aud) claim: the client id is not an audience")
	}
	if len(r.BoundAudiences) == 0 {
		if !o.oidc && len(auds) > 0 {
			return invalid("audience claim found in JWT but no audiences bound to the role")
		}
		return nil
	}
	for _, a := range auds {
		if slices.Contains(r.BoundAudiences, a) {
			return nil
		}
	}
	return invalid("invalid audience (aud) claim: audience claim does not match any expected audience")
}

// checkTimes applies exp (required), nbf and iat with the role's leeways.
func checkTimes(claims map[string]any, r *role, now time.Time) error {
	skew := leeway(r.ClockSkewLeeway, defaultClockSkewLeeway)
	exp, ok, err := numericDate(claims, "exp")
	switch {
	case err != nil:
		return err
	case !ok:
		return invalid("missing expiration (exp) claim")
	case now.After(exp.Add(skew + leeway(r.ExpirationLeeway, defaultExpirationLeeway))):
		return invalid("token is expired (exp)")
	}
	nbf, ok, err := numericDate(claims, "nbf")
	if err != nil {
		return err
	}
	if ok && now.Add(skew+leeway(r.NotBeforeLeeway, defaultNotBeforeLeeway)).Before(nbf) {
		return invalid("token is not valid yet (nbf)")
	}
	iat, ok, err := numericDate(claims, "iat")
	if err != nil {
		return err
	}
	if ok && now.Add(skew).Before(iat) {
		return invalid("token was issued in the future (iat)")
	}
	return nil
}

func checkMaxAge(claims map[string]any, r *role, now time.Time) error {
	if r.MaxAge <= 0 {
		return nil
	}
	at, ok, err := numericDate(claims, "auth_time")
	switch {
	case err != nil:
		return err
	case !ok:
		return invalid("missing auth_time claim required by max_age")
	case now.After(at.Add(time.Duration(r.MaxAge)*time.Second + leeway(r.ClockSkewLeeway, defaultClockSkewLeeway))):
		return invalid("auth_time is older than max_age")
	}
	return nil
}

// leeway turns a stored setting (seconds; 0 = default; negative = none)
// into a duration.
func leeway(secs, def int64) time.Duration {
	switch {
	case secs < 0:
		return 0
	case secs == 0:
		return time.Duration(def) * time.Second
	}
	return time.Duration(secs) * time.Second
}

// numericDate reads a NumericDate claim (seconds since the epoch).
func numericDate(claims map[string]any, name string) (time.Time, bool, error) {
	v, ok := claims[name]
	if !ok || v == nil {
		return time.Time{}, false, nil
	}
	var f float64
	switch x := v.(type) {
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return time.Time{}, false, invalid("malformed %s claim", name)
		}
	case float64:
		f = x
	default:
		return time.Time{}, false, invalid("malformed %s claim", name)
	}
	if math.IsNaN(f) || f < 0 || f > 1e11 {
		return time.Time{}, false, invalid("malformed %s claim", name)
	}
	return time.Unix(int64(f), 0), true, nil
}

// getClaim returns a claim by name, or by JSON pointer ("/a/b/0") when the
// name starts with "/"; nil if absent.
func getClaim(claims map[string]any, name string) any {
	if !strings.HasPrefix(name, "/") {
		return claims[name]
	}
	var cur any = claims
	for _, tok := range strings.Split(name[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// scalarString converts a string, number or boolean claim to a string.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// stringList reads a claim that is one scalar or a list of scalars; a
// missing claim is an empty list.
func stringList(v any) ([]string, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := scalarString(e)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	s, ok := scalarString(v)
	if !ok {
		return nil, false
	}
	return []string{s}, true
}

// checkBoundClaims requires every bound claim to be present with a value
// (or, for a list claim, one element) matching one of the bound values.
func checkBoundClaims(claims map[string]any, bound map[string][]string, glob bool) error {
	names := make([]string, 0, len(bound))
	for n := range bound {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		raw := getClaim(claims, name)
		if raw == nil {
			return invalid("claim %q is missing", name)
		}
		actual, ok := stringList(raw)
		if !ok || !anyMatch(actual, bound[name], glob) {
			return invalid("claim %q does not match any associated bound claim values", name)
		}
	}
	return nil
}

func anyMatch(actual, expected []string, glob bool) bool {
	for _, a := range actual {
		for _, e := range expected {
			if (glob && authutil.Glob(e, a)) || (!glob && a == e) {
				return true
			}
		}
	}
	return false
}
