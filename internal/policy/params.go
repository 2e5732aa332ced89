package policy

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// checkParameters applies the required, denied and allowed parameter rules
// to a request body and returns a denial reason, or "" when the body passes.
// When several fields break a rule the alphabetically first is reported, so
// the reason does not depend on map order.
func (r *rule) checkParameters(data map[string]any) string {
	for _, p := range r.required {
		if _, ok := data[strings.ToLower(p)]; !ok {
			return "missing required parameter " + quote(p)
		}
	}
	if len(data) == 0 {
		return ""
	}
	if len(r.denied) > 0 {
		_, all := r.denied["*"]
		if k, bad := firstKey(data, func(k string, v any) bool {
			list, ok := r.denied[strings.ToLower(k)]
			return all || (ok && deniedValue(v, list))
		}); bad {
			return "parameter " + quote(k) + " is denied"
		}
	}
	if len(r.allowed) == 0 {
		return ""
	}
	_, anyKey := r.allowed["*"]
	if anyKey && len(r.allowed) == 1 {
		return ""
	}
	if k, bad := firstKey(data, func(k string, _ any) bool {
		_, ok := r.allowed[strings.ToLower(k)]
		return !ok && !anyKey
	}); bad {
		return "parameter " + quote(k) + " is not allowed"
	}
	if k, bad := firstKey(data, func(k string, v any) bool {
		list, ok := r.allowed[strings.ToLower(k)]
		return ok && !allowedValue(v, list)
	}); bad {
		return "value of parameter " + quote(k) + " is not allowed"
	}
	return ""
}

// firstKey returns the smallest key of data for which bad holds, and whether
// there is one.
func firstKey(data map[string]any, bad func(string, any) bool) (string, bool) {
	found, first := false, ""
	for k, v := range data {
		if (!found || k < first) && bad(k, v) {
			found, first = true, k
		}
	}
	return first, found
}

// allowedValue reports whether v is permitted by an allowed list: an empty
// list allows anything; a list value, or a comma-separated string, is
// allowed when every element is.
func allowedValue(v any, list []any) bool {
	if len(list) == 0 || inList(v, list) {
		return true
	}
	switch v := v.(type) {
	case []any:
		for _, el := range v {
			if !inList(el, list) {
				return false
			}
		}
		return true
	case string:
		for el := range strings.SplitSeq(v, ",") {
			if !inList(strings.TrimSpace(el), list) {
				return false
			}
		}
		return true
	}
	return false
}

// deniedValue reports whether v is forbidden by a denied list: an empty list
// denies any value; a list value, or a comma-separated string, is denied
// when any element is.
func deniedValue(v any, list []any) bool {
	if len(list) == 0 || inList(v, list) {
		return true
	}
	switch v := v.(type) {
	case []any:
		for _, el := range v {
			if inList(el, list) {
				return true
			}
		}
	case string:
		for el := range strings.SplitSeq(v, ",") {
			if inList(strings.TrimSpace(el), list) {
				return true
			}
		}
	}
	return false
}

// inList reports whether v equals an element of list. String elements are
// globs: a leading and/or trailing "*" matches any suffix/prefix/substring.
// Numbers compare by value whatever their Go type (HCL gives int64, JSON
// float64 or json.Number).
func inList(v any, list []any) bool {
	for _, el := range list {
		if valueEqual(el, v) {
			return true
		}
	}
	return false
}

// valueEqual compares a policy value pattern with a request value.
func valueEqual(pattern, v any) bool {
	if pattern == nil || v == nil {
		return pattern == nil && v == nil
	}
	if p, ok := pattern.(string); ok {
		s, ok := v.(string)
		return ok && globMatch(p, s)
	}
	if pn, ok := number(pattern); ok {
		vn, ok := number(v)
		return ok && pn == vn
	}
	return reflect.DeepEqual(pattern, v)
}

// globMatch matches s against a pattern with an optional "*" at either end.
func globMatch(pattern, s string) bool {
	if len(pattern) < 2 {
		return pattern == s
	}
	pre, suf := strings.HasPrefix(pattern, "*"), strings.HasSuffix(pattern, "*")
	switch {
	case pre && suf:
		return strings.Contains(s, pattern[1:len(pattern)-1])
	case pre:
		return strings.HasSuffix(s, pattern[1:])
	case suf:
		return strings.HasPrefix(s, pattern[:len(pattern)-1])
	}
	return pattern == s
}

// number converts a numeric value of any Go type to float64.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float64:
		return n, !math.IsNaN(n)
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil
	}
	return 0, false
}
