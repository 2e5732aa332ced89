package identity

import (
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

func mapField(desc string) *logical.Field {
	return &logical.Field{Type: logical.TypeKVPairs, Description: desc}
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
