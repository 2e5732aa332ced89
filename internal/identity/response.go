package identity

import (
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// Read responses, shaped like Vault's. List-valued fields are never null
// (an empty list is []), maps never null (an empty map is {}).

func timeString(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func strs(in []string) []string {
	if in == nil {
		return []string{}
	}
	return in
}

func kv(in map[string]string) map[string]string {
	if in == nil {
		return map[string]string{}
	}
	return in
}

// aliasData is an alias as Vault reads it, with the mount's type and path
// from the resolver. Callers hold s.mu.
func (s *Store) aliasData(a *Alias) map[string]any {
	mi, _ := s.mount(a.MountAccessor)
	return map[string]any{
		"id":                        a.ID,
		"canonical_id":              a.CanonicalID,
		"name":                      a.Name,
		"mount_accessor":            a.MountAccessor,
		"mount_type":                mi.Type,
		"mount_path":                mi.Path,
		"metadata":                  kv(a.Metadata),
		"custom_metadata":           kv(a.CustomMetadata),
		"merged_from_canonical_ids": strs(a.MergedFromCanonicalIDs),
		"creation_time":             timeString(a.CreationTime),
		"last_update_time":          timeString(a.LastUpdateTime),
		"local":                     false,
		"namespace_id":              "root",
	}
}

// entityData is an entity read. Callers hold s.mu.
func (s *Store) entityData(e *Entity) map[string]any {
	aliases := make([]any, 0, len(e.Aliases))
	for _, a := range e.Aliases {
		aliases = append(aliases, s.aliasData(a))
	}
	direct, inherited := s.idx.entityGroupIDs(e.ID)
	all := append(append(make([]string, 0, len(direct)+len(inherited)), direct...), inherited...)
	return map[string]any{
		"id":                  e.ID,
		"name":                e.Name,
		"aliases":             aliases,
		"policies":            strs(e.Policies),
		"metadata":            kv(e.Metadata),
		"disabled":            e.Disabled,
		"creation_time":       timeString(e.CreationTime),
		"last_update_time":    timeString(e.LastUpdateTime),
		"merged_entity_ids":   strs(e.MergedEntityIDs),
		"direct_group_ids":    direct,
		"inherited_group_ids": inherited,
		"group_ids":           all,
		"namespace_id":        "root",
	}
}

// groupData is a group read. Callers hold s.mu.
func (s *Store) groupData(g *Group) map[string]any {
	alias := map[string]any{}
	if g.Alias != nil {
		alias = s.aliasData(g.Alias)
	}
	return map[string]any{
		"id":                g.ID,
		"name":              g.Name,
		"type":              g.Type,
		"policies":          strs(g.Policies),
		"metadata":          kv(g.Metadata),
		"member_entity_ids": strs(g.MemberEntityIDs),
		"member_group_ids":  strs(g.MemberGroupIDs),
		"parent_group_ids":  sortedKeys(s.idx.parents[g.ID]),
		"alias":             alias,
		"modify_index":      g.ModifyIndex,
		"creation_time":     timeString(g.CreationTime),
		"last_update_time":  timeString(g.LastUpdateTime),
		"namespace_id":      "root",
	}
}

// aliasListInfo is an alias's entry in a LIST's key_info. Callers hold s.mu.
func (s *Store) aliasListInfo(a *Alias) map[string]any {
	mi, _ := s.mount(a.MountAccessor)
	return map[string]any{
		"canonical_id":    a.CanonicalID,
		"name":            a.Name,
		"mount_accessor":  a.MountAccessor,
		"mount_type":      mi.Type,
		"mount_path":      mi.Path,
		"custom_metadata": kv(a.CustomMetadata),
	}
}

// listWithInfo is a LIST response with key_info, or nil (404) when empty.
func listWithInfo(keys []string, info map[string]any) *logical.Response {
	if len(keys) == 0 {
		return nil
	}
	return logical.DataResponse(map[string]any{"keys": keys, "key_info": info})
}
