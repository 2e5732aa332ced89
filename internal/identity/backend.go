package identity

import (
	"fmt"
	"maps"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
)

// Path segments: IDs and names are one path segment each.
const seg = `(?P<%s>[^/]+)`

// newRouter declares the identity/* API. More specific paths come first:
// the router takes the first match.
func (s *Store) newRouter() *logical.Router {
	var paths []*logical.Path
	paths = append(paths, s.entityPaths()...)
	paths = append(paths, s.entityAliasPaths()...)
	paths = append(paths, s.groupPaths()...)
	paths = append(paths, s.groupAliasPaths()...)
	paths = append(paths, s.lookupPaths()...)
	return logical.NewRouter(paths...)
}

// Shared field declarations.

func strField(desc string) *logical.Field {
	return &logical.Field{Type: logical.TypeString, Description: desc}
}

func listField(desc string) *logical.Field {
	return &logical.Field{Type: logical.TypeStringSlice, Description: desc}
}

// mapField declares string key/value pairs, read with kvPairs.
func mapField(desc string) *logical.Field {
	return &logical.Field{Type: logical.TypeRaw, Description: desc}
}

// kvPairs reads a mapField. As Vault, it takes a JSON object of strings, a
// "key=value" string, or a list of "key=value" strings (what `vault write
// ... metadata=team=x` sends). ok is false when the field was not sent.
func kvPairs(d *logical.FieldData, name string) (m map[string]string, ok bool, err error) {
	v, ok := d.GetOk(name)
	if !ok {
		return nil, false, nil
	}
	m, err = parseKVPairs(v)
	if err != nil {
		return nil, true, logical.InvalidRequest("field %q: %v", name, err)
	}
	return m, true, nil
}

func parseKVPairs(v any) (map[string]string, error) {
	switch x := v.(type) {
	case map[string]string:
		return maps.Clone(x), nil
	case map[string]any:
		out := make(map[string]string, len(x))
		for k, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("value of %q must be a string", k)
			}
			out[k] = s
		}
		return out, nil
	case string:
		if x == "" {
			return map[string]string{}, nil
		}
		return parseKVPairs([]any{x})
	case []string:
		return parseKVPairs(toAnySlice(x))
	case []any:
		out := make(map[string]string, len(x))
		for _, e := range x {
			s, _ := e.(string)
			k, val, found := strings.Cut(s, "=")
			if !found || k == "" {
				return nil, fmt.Errorf("expected key=value pairs")
			}
			out[k] = val
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected an object of strings or key=value pairs")
}

func toAnySlice(in []string) []any {
	out := make([]any, len(in))
	for i, s := range in {
		out[i] = s
	}
	return out
}

func boolField(desc string) *logical.Field {
	return &logical.Field{Type: logical.TypeBool, Description: desc}
}

// one returns the single non-empty value among named fields, and an error
// when more than one is set. Used by lookups, which take exactly one
// criterion.
func oneOf(d *logical.FieldData, names ...string) (string, string, error) {
	var name, value string
	for _, n := range names {
		if v := d.String(n); v != "" {
			if name != "" {
				return "", "", logical.InvalidRequest("only one of %q and %q may be given", name, n)
			}
			name, value = n, v
		}
	}
	return name, value, nil
}
