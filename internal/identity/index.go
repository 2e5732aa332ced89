package identity

import (
	"slices"
)

// aliasKey identifies an alias by the pair Vault keeps unique: the mount
// and the name within it.
type aliasKey struct {
	accessor string
	name     string
}

// index is the in-memory copy of every entity and group with the lookups
// the API and the login path need. Objects in it are never modified in
// place (see Entity.clone); the maps are changed only under Store.mu's
// write lock.
type index struct {
	entities     map[string]*Entity
	entityByName map[string]string
	// aliasEntity maps an entity alias ID to its entity's ID.
	aliasEntity map[string]string
	// aliasByKey maps (mount, name) to an entity alias ID.
	aliasByKey map[aliasKey]string

	groups      map[string]*Group
	groupByName map[string]string
	// groupAliasGroup maps a group alias ID to its group's ID.
	groupAliasGroup map[string]string
	// groupAliasByKey maps (mount, name) to the ID of the group the alias
	// belongs to.
	groupAliasByKey map[aliasKey]string

	// entityGroups maps an entity ID to the groups listing it as a member.
	entityGroups map[string]map[string]struct{}
	// parents maps a group ID to the groups listing it as a member group.
	parents map[string]map[string]struct{}
}

func newIndex() *index {
	return &index{
		entities:        map[string]*Entity{},
		entityByName:    map[string]string{},
		aliasEntity:     map[string]string{},
		aliasByKey:      map[aliasKey]string{},
		groups:          map[string]*Group{},
		groupByName:     map[string]string{},
		groupAliasGroup: map[string]string{},
		groupAliasByKey: map[aliasKey]string{},
		entityGroups:    map[string]map[string]struct{}{},
		parents:         map[string]map[string]struct{}{},
	}
}

// putEntity inserts or replaces e.
func (x *index) putEntity(e *Entity) {
	x.removeEntity(e.ID)
	x.entities[e.ID] = e
	x.entityByName[e.Name] = e.ID
	for _, a := range e.Aliases {
		x.aliasEntity[a.ID] = e.ID
		x.aliasByKey[aliasKey{a.MountAccessor, a.Name}] = a.ID
	}
}

// removeEntity drops the entity and its aliases from the lookups. Group
// memberships are the groups' to change.
func (x *index) removeEntity(id string) {
	old, ok := x.entities[id]
	if !ok {
		return
	}
	delete(x.entities, id)
	if x.entityByName[old.Name] == id {
		delete(x.entityByName, old.Name)
	}
	for _, a := range old.Aliases {
		// Conditional, like the name: a standby reloading the objects of
		// one write in any order (see Store.Invalidate) may already have
		// indexed the alias under the entity it moved to.
		if owner, ok := x.aliasEntity[a.ID]; ok && owner != id {
			continue
		}
		delete(x.aliasEntity, a.ID)
		k := aliasKey{a.MountAccessor, a.Name}
		if x.aliasByKey[k] == a.ID {
			delete(x.aliasByKey, k)
		}
	}
}

// putGroup inserts or replaces g and its membership edges.
func (x *index) putGroup(g *Group) {
	x.removeGroup(g.ID)
	x.groups[g.ID] = g
	x.groupByName[g.Name] = g.ID
	if a := g.Alias; a != nil {
		x.groupAliasGroup[a.ID] = g.ID
		x.groupAliasByKey[aliasKey{a.MountAccessor, a.Name}] = g.ID
	}
	for _, id := range g.MemberEntityIDs {
		addEdge(x.entityGroups, id, g.ID)
	}
	for _, id := range g.MemberGroupIDs {
		addEdge(x.parents, id, g.ID)
	}
}

// removeGroup drops the group, its alias and its membership edges.
func (x *index) removeGroup(id string) {
	old, ok := x.groups[id]
	if !ok {
		return
	}
	delete(x.groups, id)
	if x.groupByName[old.Name] == id {
		delete(x.groupByName, old.Name)
	}
	if a := old.Alias; a != nil {
		if x.groupAliasGroup[a.ID] == id {
			delete(x.groupAliasGroup, a.ID)
		}
		k := aliasKey{a.MountAccessor, a.Name}
		if x.groupAliasByKey[k] == id {
			delete(x.groupAliasByKey, k)
		}
	}
	for _, m := range old.MemberEntityIDs {
		removeEdge(x.entityGroups, m, id)
	}
	for _, m := range old.MemberGroupIDs {
		removeEdge(x.parents, m, id)
	}
}

func addEdge(m map[string]map[string]struct{}, from, to string) {
	set := m[from]
	if set == nil {
		set = map[string]struct{}{}
		m[from] = set
	}
	set[to] = struct{}{}
}

func removeEdge(m map[string]map[string]struct{}, from, to string) {
	set := m[from]
	delete(set, to)
	if len(set) == 0 {
		delete(m, from)
	}
}

// sortedKeys returns the keys of a set, sorted; never nil.
func sortedKeys(set map[string]struct{}) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ancestors returns every group that has one of the start groups as a
// member, directly or through other groups, excluding the start groups
// themselves unless they are reached through another start group. The
// walk tolerates cycles even though writes reject them.
func (x *index) ancestors(start map[string]struct{}) map[string]struct{} {
	seen := map[string]struct{}{}
	queue := make([]string, 0, len(start))
	for id := range start {
		queue = append(queue, id)
	}
	for len(queue) > 0 {
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for p := range x.parents[id] {
			if _, ok := seen[p]; ok {
				continue
			}
			seen[p] = struct{}{}
			queue = append(queue, p)
		}
	}
	return seen
}

// entityGroupIDs returns the entity's direct groups and the groups it
// inherits through them (inherited excludes direct ones), both sorted.
func (x *index) entityGroupIDs(entityID string) (direct, inherited []string) {
	d := x.entityGroups[entityID]
	anc := x.ancestors(d)
	for id := range d {
		delete(anc, id)
	}
	return sortedKeys(d), sortedKeys(anc)
}

// policiesOf computes the sorted, deduplicated policies of an entity from
// itself and every group it belongs to, directly or transitively.
func (x *index) policiesOf(e *Entity) []string {
	direct := x.entityGroups[e.ID]
	all := x.ancestors(direct)
	for id := range direct {
		all[id] = struct{}{}
	}
	out := slices.Clone(e.Policies)
	for id := range all {
		if g, ok := x.groups[id]; ok {
			out = append(out, g.Policies...)
		}
	}
	// Clipped: the result is shared through the policy cache, so an
	// append by a caller must copy rather than write past its end.
	return slices.Clip(normalize(out))
}

// createsCycle reports whether making members member groups of groupID
// would create a cycle: a group that is (transitively) a member of itself.
func (x *index) createsCycle(groupID string, members []string) (string, bool) {
	anc := x.ancestors(map[string]struct{}{groupID: {}})
	for _, m := range members {
		if m == groupID {
			return m, true
		}
		if _, ok := anc[m]; ok {
			return m, true
		}
	}
	return "", false
}
