package approle

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/cofferdev/coffer/internal/auth/tokenutil"
)

// parseMetadata reads a secret ID's metadata as Vault accepts it: a JSON
// object of strings, given as an object or as a string holding JSON,
// base64-encoded JSON, or comma-separated key=value pairs. Keys and values
// must be non-empty, valid UTF-8. A nil or empty input is no metadata.
func parseMetadata(v any) (map[string]string, error) {
	out := map[string]string{}
	switch x := v.(type) {
	case nil:
		return out, nil
	case map[string]any:
		for k, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("value of %q must be a string", k)
			}
			out[k] = s
		}
	case string:
		if err := parseMetadataString(x, out); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("expected an object or a string")
	}
	for k, s := range out {
		if k == "" || s == "" {
			return nil, fmt.Errorf("invalid empty key or value for key %q", k)
		}
		if !utf8.ValidString(k) || !utf8.ValidString(s) {
			return nil, fmt.Errorf("keys and values must be valid UTF-8")
		}
	}
	return out, nil
}

// parseMetadataString parses the string forms of parseMetadata into out.
func parseMetadataString(in string, out map[string]string) error {
	in = strings.TrimSpace(in)
	if in == "" {
		return nil
	}
	if raw, err := base64.StdEncoding.DecodeString(in); err == nil {
		in = string(raw)
	}
	if strings.HasPrefix(strings.TrimSpace(in), "{") {
		if err := json.Unmarshal([]byte(in), &out); err != nil {
			return fmt.Errorf("invalid JSON object of strings")
		}
		return nil
	}
	for _, pair := range strings.Split(in, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return fmt.Errorf("expected JSON or key=value pairs")
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return nil
}

// parseCIDRList parses a list of CIDRs (or addresses) that must lie within
// bounds when bounds is not empty; field names the list in errors.
func parseCIDRList(field string, in []string, bounds []netip.Prefix) ([]netip.Prefix, error) {
	cidrs, err := tokenutil.ParseCIDRs(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	if len(bounds) == 0 {
		return cidrs, nil
	}
	for _, c := range cidrs {
		if !within(c, bounds) {
			return nil, fmt.Errorf("%s: %s is not within the role's bound CIDRs", field, c)
		}
	}
	return cidrs, nil
}

// within reports whether every address of c lies in one of bounds.
func within(c netip.Prefix, bounds []netip.Prefix) bool {
	for _, b := range bounds {
		if b.Addr().Is4() == c.Addr().Is4() && b.Bits() <= c.Bits() && b.Contains(c.Addr()) {
			return true
		}
	}
	return false
}
