package identity

import (
	"maps"
	"slices"
	"time"
)

// Group types, as Vault names them.
const (
	GroupInternal = "internal"
	GroupExternal = "external"
)

// Entity is one principal: a person or a service, with one alias per auth
// mount it logs in through. It is stored as one JSON object (aliases
// included) under "entity/<id>".
type Entity struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Aliases         []*Alias          `json:"aliases,omitempty"`
	Policies        []string          `json:"policies,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	Disabled        bool              `json:"disabled,omitempty"`
	MergedEntityIDs []string          `json:"merged_entity_ids,omitempty"`
	CreationTime    time.Time         `json:"creation_time"`
	LastUpdateTime  time.Time         `json:"last_update_time"`
}

// Alias is an entity's (or an external group's) name inside one auth mount.
// CanonicalID is the ID of the entity or group it belongs to.
type Alias struct {
	ID                     string            `json:"id"`
	CanonicalID            string            `json:"canonical_id"`
	MountAccessor          string            `json:"mount_accessor"`
	Name                   string            `json:"name"`
	Metadata               map[string]string `json:"metadata,omitempty"`
	CustomMetadata         map[string]string `json:"custom_metadata,omitempty"`
	MergedFromCanonicalIDs []string          `json:"merged_from_canonical_ids,omitempty"`
	CreationTime           time.Time         `json:"creation_time"`
	LastUpdateTime         time.Time         `json:"last_update_time"`
}

// Group is a set of entities and subgroups sharing policies. Members of an
// internal group are set through the API; members of an external group are
// set at login from the identity provider's groups, matched through the
// group's Alias. A group's policies apply to its member entities and to
// every member of its member groups, transitively.
type Group struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Type            string            `json:"type"`
	Policies        []string          `json:"policies,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	MemberEntityIDs []string          `json:"member_entity_ids,omitempty"`
	MemberGroupIDs  []string          `json:"member_group_ids,omitempty"`
	Alias           *Alias            `json:"alias,omitempty"`
	ModifyIndex     int               `json:"modify_index"`
	CreationTime    time.Time         `json:"creation_time"`
	LastUpdateTime  time.Time         `json:"last_update_time"`
}

// clone returns a deep copy of a, or nil.
func (a *Alias) clone() *Alias {
	if a == nil {
		return nil
	}
	c := *a
	c.Metadata = maps.Clone(a.Metadata)
	c.CustomMetadata = maps.Clone(a.CustomMetadata)
	c.MergedFromCanonicalIDs = slices.Clone(a.MergedFromCanonicalIDs)
	return &c
}

// clone returns a deep copy of e. Stored entities are never modified in
// place: writers change a clone and swap it in, so readers holding the old
// pointer see a consistent object.
func (e *Entity) clone() *Entity {
	c := *e
	c.Aliases = make([]*Alias, len(e.Aliases))
	for i, a := range e.Aliases {
		c.Aliases[i] = a.clone()
	}
	c.Policies = slices.Clone(e.Policies)
	c.Metadata = maps.Clone(e.Metadata)
	c.MergedEntityIDs = slices.Clone(e.MergedEntityIDs)
	return &c
}

// aliasOn returns the entity's alias on the mount, or nil.
func (e *Entity) aliasOn(accessor string) *Alias {
	for _, a := range e.Aliases {
		if a.MountAccessor == accessor {
			return a
		}
	}
	return nil
}

// aliasByID returns the entity's alias with the ID, or nil.
func (e *Entity) aliasByID(id string) *Alias {
	for _, a := range e.Aliases {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// clone returns a deep copy of g.
func (g *Group) clone() *Group {
	c := *g
	c.Policies = slices.Clone(g.Policies)
	c.Metadata = maps.Clone(g.Metadata)
	c.MemberEntityIDs = slices.Clone(g.MemberEntityIDs)
	c.MemberGroupIDs = slices.Clone(g.MemberGroupIDs)
	c.Alias = g.Alias.clone()
	return &c
}

// touch sets the update time and bumps the modify index.
func (g *Group) touch(now time.Time) {
	g.LastUpdateTime = now
	g.ModifyIndex++
}

// normalize sorts and deduplicates a list of names or IDs, dropping empty
// strings, and returns nil for an empty result.
func normalize(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	return out
}
