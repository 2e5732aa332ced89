package identity

import (
	"context"
	"slices"

	"github.com/cofferdev/coffer/internal/logical"
)

func groupFields() map[string]*logical.Field {
	return map[string]*logical.Field{
		"id":                strField("ID of the group; when set, that group is updated."),
		"name":              strField("Name of the group; generated when empty."),
		"type":              strField(`"internal" (default) or "external"; cannot change.`),
		"policies":          listField("Policies granted to the group's members."),
		"metadata":          mapField("Metadata as string key/value pairs."),
		"member_entity_ids": listField("Member entities (internal groups only)."),
		"member_group_ids":  listField("Member groups, which inherit this group's policies (internal groups only)."),
	}
}

func (s *Store) groupPaths() []*logical.Path {
	return objectPaths("group", "a group", groupFields, objectHandlers{
		list: s.listGroups, read: s.readGroup, write: s.writeGroup, delete: s.deleteGroup,
	})
}

// writeGroup serves writes to group/id/:id (the group must exist) and
// group/name/:name (created when it does not).
func (s *Store) writeGroup(byID bool) logical.Handler {
	return func(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		g := s.groupFor(byID, d)
		if g == nil && byID {
			return nil, logical.InvalidRequest("invalid group ID %q", d.String("id"))
		}
		return s.upsertGroupLocked(ctx, g, d)
	}
}

// upsertGroupLocked applies the request's fields to a clone of g (or a new
// group when g is nil), validates type, name and members, and stores it.
// It answers with the group's id and name, as Vault.
func (s *Store) upsertGroupLocked(ctx context.Context, g *Group, d *logical.FieldData) (*logical.Response, error) {
	now := s.now()
	if g == nil {
		g = &Group{ID: newID(), CreationTime: now}
	} else {
		g = g.clone()
	}
	if err := s.applyGroupBasics(g, d); err != nil {
		return nil, err
	}
	if err := s.applyGroupMembers(g, d); err != nil {
		return nil, err
	}
	g.touch(now)
	if err := s.commit(ctx, &change{groups: []*Group{g}}); err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"id": g.ID, "name": g.Name}), nil
}

// applyGroupBasics sets type, name, policies and metadata from the request.
func (s *Store) applyGroupBasics(g *Group, d *logical.FieldData) error {
	if t := d.String("type"); t != "" {
		if g.Type != "" && t != g.Type {
			return logical.InvalidRequest("group type cannot be changed")
		}
		g.Type = t
	}
	if g.Type == "" {
		g.Type = GroupInternal
	}
	if g.Type != GroupInternal && g.Type != GroupExternal {
		return logical.InvalidRequest("invalid group type %q", g.Type)
	}
	if name := d.String("name"); name != "" && name != g.Name {
		if _, taken := s.idx.groupByName[name]; taken {
			return logical.InvalidRequest("group name is already in use")
		}
		g.Name = name
	}
	if g.Name == "" {
		g.Name = "group_" + g.ID
	}
	if v, ok := d.GetOk("policies"); ok {
		p, _ := v.([]string)
		g.Policies = normalize(p)
	}
	if m, ok, err := kvPairs(d, "metadata"); err != nil {
		return err
	} else if ok {
		g.Metadata = m
	}
	return nil
}

// applyGroupMembers sets member entities and member groups. External groups
// take no explicit members (an empty list is accepted and ignored); member
// groups must exist and must not make a group its own member.
func (s *Store) applyGroupMembers(g *Group, d *logical.FieldData) error {
	if hasField(d, "member_entity_ids") {
		ids := normalize(d.Strings("member_entity_ids"))
		if g.Type == GroupExternal {
			if ids != nil {
				return logical.InvalidRequest("member entities can't be set manually for external groups")
			}
		} else {
			for _, id := range ids {
				if _, ok := s.idx.entities[id]; !ok {
					return logical.InvalidRequest("invalid member entity ID %q", id)
				}
			}
			g.MemberEntityIDs = ids
		}
	}
	if hasField(d, "member_group_ids") {
		ids := normalize(d.Strings("member_group_ids"))
		if g.Type == GroupExternal {
			if ids != nil {
				return logical.InvalidRequest("member groups can't be set for external groups")
			}
			return nil
		}
		for _, id := range ids {
			if _, ok := s.idx.groups[id]; !ok {
				return logical.InvalidRequest("invalid member group ID %q", id)
			}
		}
		if m, cyclic := s.idx.createsCycle(g.ID, ids); cyclic {
			return logical.InvalidRequest("cyclic relationship detected for member group ID %q", m)
		}
		g.MemberGroupIDs = ids
	}
	return nil
}

func hasField(d *logical.FieldData, name string) bool {
	_, ok := d.GetOk(name)
	return ok
}

// readGroup serves GET group/id/:id and group/name/:name.
func (s *Store) readGroup(byID bool) logical.Handler {
	return func(_ context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		g := s.groupFor(byID, d)
		if g == nil {
			return nil, nil
		}
		return logical.DataResponse(s.groupData(g)), nil
	}
}

// groupFor finds the group a by-ID or by-name path names. Callers hold s.mu.
func (s *Store) groupFor(byID bool, d *logical.FieldData) *Group {
	id := d.String("id")
	if !byID {
		id = s.idx.groupByName[d.String("name")]
	}
	return s.idx.groups[id]
}

// deleteGroup deletes a group and its alias and removes it from its parent
// groups' member_group_ids, in one storage write.
func (s *Store) deleteGroup(byID bool) logical.Handler {
	return func(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		g := s.groupFor(byID, d)
		if g == nil {
			return nil, nil
		}
		c := &change{deleteGroup: []string{g.ID}}
		now := s.now()
		for pid := range s.idx.parents[g.ID] {
			if _, ok := s.idx.groups[pid]; !ok {
				continue
			}
			p := c.group(s.idx, pid)
			p.MemberGroupIDs = slices.DeleteFunc(p.MemberGroupIDs, func(m string) bool { return m == g.ID })
			p.touch(now)
		}
		return nil, s.commit(ctx, c)
	}
}

// listGroups serves LIST group/id (with key_info) and group/name.
func (s *Store) listGroups(byID bool) logical.Handler {
	return func(_ context.Context, _ *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		keys := make([]string, 0, len(s.idx.groups))
		info := make(map[string]any, len(s.idx.groups))
		for _, g := range s.idx.groups {
			if !byID {
				keys = append(keys, g.Name)
				continue
			}
			keys = append(keys, g.ID)
			info[g.ID] = map[string]any{
				"name":                g.Name,
				"num_member_entities": len(g.MemberEntityIDs),
				"num_parent_groups":   len(s.idx.parents[g.ID]),
			}
		}
		slices.Sort(keys)
		if !byID {
			return logical.ListResponse(keys), nil
		}
		return listWithInfo(keys, info), nil
	}
}
