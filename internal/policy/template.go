package policy

import (
	"errors"
	"slices"
	"strings"
)

// Identity is what identity templating in path patterns may refer to, e.g.
// path "secret/data/{{identity.entity.name}}/*".
type Identity struct {
	EntityID       string
	EntityName     string
	EntityMetadata map[string]string
	Aliases        []Alias
	Groups         []Group
}

// Alias is an entity alias, selected in templates by its mount accessor:
// {{identity.entity.aliases.auth_userpass_1234.name}}.
type Alias struct {
	MountAccessor  string
	ID             string
	Name           string
	Metadata       map[string]string
	CustomMetadata map[string]string
}

// Group is a group the entity belongs to:
// {{identity.groups.names.ops.id}}, {{identity.groups.ids.<id>.name}}.
type Group struct {
	ID       string
	Name     string
	Metadata map[string]string
}

// errTemplate marks a template that cannot be filled for an identity.
var errTemplate = errors.New("template cannot be filled")

// Render returns p with identity templates in its path patterns filled in
// from id, ready for NewACL. A rule whose template cannot be filled (no
// entity, unknown alias or group, missing value) is dropped, as Vault drops
// it; so is one whose filled-in value holds a wildcard ("*" or a "+"
// segment), so identity data can never widen a rule. Rules without
// templates are shared with p. id may be nil.
func (p *Policy) Render(id *Identity) *Policy {
	out := &Policy{Name: p.Name, Raw: p.Raw}
	for _, r := range p.Paths {
		if !r.Templated {
			out.Paths = append(out.Paths, r)
			continue
		}
		path, err := renderPath(r.Path, id)
		if err != nil {
			continue
		}
		rr := *r
		if err := classifyPath(path, &rr); err != nil || rr.Templated {
			continue
		}
		out.Paths = append(out.Paths, &rr)
	}
	return out
}

// renderPath replaces each {{selector}} in path.
func renderPath(path string, id *Identity) (string, error) {
	var b strings.Builder
	rest := path
	for {
		open := strings.Index(rest, "{{")
		if open < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		closing := strings.Index(rest[open:], "}}")
		if closing < 0 {
			return "", errTemplate
		}
		v, err := templateValue(strings.TrimSpace(rest[open+2:open+closing]), id)
		if err != nil {
			return "", err
		}
		if v == "" || strings.Contains(v, "*") || slices.Contains(strings.Split(v, "/"), "+") {
			return "", errTemplate
		}
		b.WriteString(rest[:open])
		b.WriteString(v)
		rest = rest[open+closing+2:]
	}
}

// templateValue resolves one selector.
func templateValue(sel string, id *Identity) (string, error) {
	if id == nil {
		return "", errTemplate
	}
	if s, ok := strings.CutPrefix(sel, "identity.entity."); ok {
		return entityValue(s, id)
	}
	if s, ok := strings.CutPrefix(sel, "identity.groups."); ok {
		return groupValue(s, id.Groups)
	}
	return "", errTemplate
}

// entityValue resolves identity.entity.<sel>.
func entityValue(sel string, id *Identity) (string, error) {
	switch {
	case sel == "id":
		return id.EntityID, nil
	case sel == "name":
		return id.EntityName, nil
	case strings.HasPrefix(sel, "metadata."):
		return lookup(id.EntityMetadata, strings.TrimPrefix(sel, "metadata."))
	case strings.HasPrefix(sel, "aliases."):
		accessor, field, ok := strings.Cut(strings.TrimPrefix(sel, "aliases."), ".")
		if !ok {
			return "", errTemplate
		}
		i := slices.IndexFunc(id.Aliases, func(a Alias) bool { return a.MountAccessor == accessor })
		if i < 0 {
			return "", errTemplate
		}
		return aliasValue(field, &id.Aliases[i])
	}
	return "", errTemplate
}

// aliasValue resolves identity.entity.aliases.<accessor>.<sel>.
func aliasValue(sel string, a *Alias) (string, error) {
	switch {
	case sel == "id":
		return a.ID, nil
	case sel == "name":
		return a.Name, nil
	case strings.HasPrefix(sel, "metadata."):
		return lookup(a.Metadata, strings.TrimPrefix(sel, "metadata."))
	case strings.HasPrefix(sel, "custom_metadata."):
		return lookup(a.CustomMetadata, strings.TrimPrefix(sel, "custom_metadata."))
	}
	return "", errTemplate
}

// groupValue resolves identity.groups.ids.<id>.<sel> and
// identity.groups.names.<name>.<sel>.
func groupValue(sel string, groups []Group) (string, error) {
	kind, rest, _ := strings.Cut(sel, ".")
	key, field, ok := strings.Cut(rest, ".")
	if !ok || (kind != "ids" && kind != "names") {
		return "", errTemplate
	}
	i := slices.IndexFunc(groups, func(g Group) bool {
		return (kind == "ids" && g.ID == key) || (kind == "names" && g.Name == key)
	})
	if i < 0 {
		return "", errTemplate
	}
	g := groups[i]
	switch {
	case field == "id":
		return g.ID, nil
	case field == "name":
		return g.Name, nil
	case strings.HasPrefix(field, "metadata."):
		return lookup(g.Metadata, strings.TrimPrefix(field, "metadata."))
	}
	return "", errTemplate
}

// lookup returns m[k], failing when it is absent.
func lookup(m map[string]string, k string) (string, error) {
	v, ok := m[k]
	if !ok {
		return "", errTemplate
	}
	return v, nil
}
