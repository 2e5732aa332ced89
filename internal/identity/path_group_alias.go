package identity

import (
	"context"
	"fmt"
	"slices"

	"github.com/cofferdev/coffer/internal/logical"
)

func groupAliasFields() map[string]*logical.Field {
	return map[string]*logical.Field{
		"id":             strField("ID of the group alias; when set, that alias is updated."),
		"name":           strField("Name of the group in the identity provider (the groups claim value)."),
		"mount_accessor": strField("Accessor of the auth mount the alias belongs to."),
		"canonical_id":   strField("External group the alias belongs to; a new one is created when empty."),
	}
}

func (s *Store) groupAliasPaths() []*logical.Path {
	return []*logical.Path{
		{
			Pattern:    `group-alias/id/?`,
			Operations: map[logical.Operation]logical.Handler{logical.ListOperation: s.listGroupAliases},
			Help:       "List group alias IDs.",
		},
		{
			Pattern: fmt.Sprintf(`group-alias/id/`+seg, "id"),
			Fields:  groupAliasFields(),
			Operations: map[logical.Operation]logical.Handler{
				logical.ReadOperation:   s.readGroupAlias,
				logical.UpdateOperation: s.writeGroupAliasByID,
				logical.DeleteOperation: s.deleteGroupAlias,
			},
			Help: "Read, update or delete a group alias.",
		},
		{
			Pattern:    `group-alias`,
			Fields:     groupAliasFields(),
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: s.registerGroupAlias},
			Help:       "Create a group alias, or update the one with the given id.",
		},
	}
}

// registerGroupAlias serves POST group-alias. An alias belongs to exactly
// one external group, and a group has at most one alias.
func (s *Store) registerGroupAlias(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id := d.String("id"); id != "" {
		return s.updateGroupAliasLocked(ctx, id, d)
	}
	name, acc := d.String("name"), d.String("mount_accessor")
	if name == "" {
		return nil, logical.InvalidRequest("missing alias name")
	}
	if _, ok := s.mount(acc); !ok {
		return nil, logical.InvalidRequest("invalid mount accessor %q", acc)
	}
	if _, ok := s.idx.groupAliasByKey[aliasKey{acc, name}]; ok {
		return nil, logical.InvalidRequest("combination of mount and group alias name is already in use")
	}
	now := s.now()
	var g *Group
	if cid := d.String("canonical_id"); cid != "" {
		t, err := s.aliasTargetLocked(cid, "")
		if err != nil {
			return nil, err
		}
		g = t.clone()
	} else {
		g = &Group{ID: newID(), Type: GroupExternal, CreationTime: now}
		g.Name = "group_" + g.ID
	}
	g.Alias = &Alias{ID: newID(), CanonicalID: g.ID, MountAccessor: acc, Name: name, CreationTime: now, LastUpdateTime: now}
	g.touch(now)
	if err := s.commit(ctx, &change{groups: []*Group{g}}); err != nil {
		return nil, err
	}
	return aliasResponse(g.Alias), nil
}

// aliasTargetLocked returns the group an alias (with ID aliasID, "" for a
// new one) may be attached to: an existing external group without another
// alias.
func (s *Store) aliasTargetLocked(groupID, aliasID string) (*Group, error) {
	g, ok := s.idx.groups[groupID]
	if !ok {
		return nil, logical.InvalidRequest("invalid canonical ID %q", groupID)
	}
	if g.Type != GroupExternal {
		return nil, logical.InvalidRequest("alias can't be set on an internal group")
	}
	if g.Alias != nil && g.Alias.ID != aliasID {
		return nil, logical.InvalidRequest("group %q already has an alias", groupID)
	}
	return g, nil
}

func (s *Store) writeGroupAliasByID(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updateGroupAliasLocked(ctx, d.String("id"), d)
}

// updateGroupAliasLocked changes a group alias's name, mount or group.
// Moving it to another group writes both groups in one transaction.
func (s *Store) updateGroupAliasLocked(ctx context.Context, id string, d *logical.FieldData) (*logical.Response, error) {
	gid, ok := s.idx.groupAliasGroup[id]
	if !ok {
		return nil, logical.InvalidRequest("invalid group alias ID %q", id)
	}
	g := s.idx.groups[gid].clone()
	a := g.Alias
	name, acc, cid := cmp(d.String("name"), a.Name), cmp(d.String("mount_accessor"), a.MountAccessor), cmp(d.String("canonical_id"), gid)
	if _, ok := s.mount(acc); !ok && acc != a.MountAccessor {
		return nil, logical.InvalidRequest("invalid mount accessor %q", acc)
	}
	if other, ok := s.idx.groupAliasByKey[aliasKey{acc, name}]; ok && other != gid {
		return nil, logical.InvalidRequest("combination of mount and group alias name is already in use")
	}
	now := s.now()
	c := &change{groups: []*Group{g}}
	target := g
	if cid != gid {
		t, err := s.aliasTargetLocked(cid, id)
		if err != nil {
			return nil, err
		}
		target = t.clone()
		g.Alias = nil
		target.Alias = a
		target.touch(now)
		c.groups = append(c.groups, target)
	}
	a.Name, a.MountAccessor, a.CanonicalID, a.LastUpdateTime = name, acc, target.ID, now
	g.touch(now)
	if err := s.commit(ctx, c); err != nil {
		return nil, err
	}
	return aliasResponse(a), nil
}

func (s *Store) readGroupAlias(_ context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	gid, ok := s.idx.groupAliasGroup[d.String("id")]
	if !ok {
		return nil, nil
	}
	return logical.DataResponse(s.aliasData(s.idx.groups[gid].Alias)), nil
}

// deleteGroupAlias removes the alias; the group and its members stay.
func (s *Store) deleteGroupAlias(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gid, ok := s.idx.groupAliasGroup[d.String("id")]
	if !ok {
		return nil, nil
	}
	g := s.idx.groups[gid].clone()
	g.Alias = nil
	g.touch(s.now())
	return nil, s.commit(ctx, &change{groups: []*Group{g}})
}

func (s *Store) listGroupAliases(_ context.Context, _ *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := make([]string, 0, len(s.idx.groupAliasGroup))
	info := make(map[string]any, len(s.idx.groupAliasGroup))
	for id, gid := range s.idx.groupAliasGroup {
		keys = append(keys, id)
		info[id] = s.aliasListInfo(s.idx.groups[gid].Alias)
	}
	slices.Sort(keys)
	return listWithInfo(keys, info), nil
}
