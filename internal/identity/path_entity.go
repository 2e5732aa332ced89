package identity

import (
	"context"
	"slices"

	"github.com/cofferdev/coffer/internal/logical"
)

func entityFields() map[string]*logical.Field {
	return map[string]*logical.Field{
		"id":       strField("ID of the entity; when set, the entity with this ID is updated."),
		"name":     strField("Name of the entity; generated when empty."),
		"metadata": mapField("Metadata as string key/value pairs."),
		"policies": listField("Policies the entity's tokens get."),
		"disabled": boolField("Disabled entities' tokens cannot be used."),
	}
}

func (s *Store) entityPaths() []*logical.Path {
	return append(objectPaths("entity", "an entity", entityFields, objectHandlers{
		list: s.listEntities, read: s.readEntity, write: s.writeEntity, delete: s.deleteEntity,
	}),
		&logical.Path{
			Pattern:    `entity/batch-delete`,
			Fields:     map[string]*logical.Field{"entity_ids": listField("IDs of the entities to delete.")},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: s.batchDeleteEntities},
			Help:       "Delete several entities at once.",
		},
		s.mergePath(),
	)
}

// entityFor finds the entity a by-ID or by-name path names, or nil.
// Callers hold s.mu.
func (s *Store) entityFor(byID bool, d *logical.FieldData) *Entity {
	id := d.String("id")
	if !byID {
		id = s.idx.entityByName[d.String("name")]
	}
	return s.idx.entities[id]
}

// writeEntity serves writes to entity/id/:id (the entity must exist) and
// entity/name/:name (created when it does not).
func (s *Store) writeEntity(byID bool) logical.Handler {
	return func(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		e := s.entityFor(byID, d)
		if e == nil && byID {
			return nil, logical.InvalidRequest("entity not found from id")
		}
		return s.upsertEntityLocked(ctx, e, d)
	}
}

// upsertEntityLocked applies the request's fields to a clone of e (or to a
// new entity when e is nil) and stores it. As Vault, a create answers with
// the new entity's id, name and alias IDs and an update with 204.
func (s *Store) upsertEntityLocked(ctx context.Context, e *Entity, d *logical.FieldData) (*logical.Response, error) {
	now := s.now()
	created := e == nil
	if created {
		e = s.newEntityLocked(now)
	} else {
		e = e.clone()
	}
	if name := d.String("name"); name != "" && name != e.Name {
		if _, taken := s.idx.entityByName[name]; taken {
			return nil, logical.InvalidRequest("entity name is already in use")
		}
		e.Name = name
	}
	if m, ok, err := kvPairs(d, "metadata"); err != nil {
		return nil, err
	} else if ok {
		e.Metadata = m
	}
	if v, ok := d.GetOk("policies"); ok {
		p, _ := v.([]string)
		e.Policies = normalize(p)
	}
	if v, ok := d.GetOk("disabled"); ok {
		e.Disabled, _ = v.(bool)
	}
	e.LastUpdateTime = now
	if err := s.commit(ctx, &change{entities: []*Entity{e}}); err != nil {
		return nil, err
	}
	if !created {
		return nil, nil
	}
	return logical.DataResponse(map[string]any{"id": e.ID, "name": e.Name, "aliases": []string{}}), nil
}

// readEntity serves GET entity/id/:id and entity/name/:name.
func (s *Store) readEntity(byID bool) logical.Handler {
	return func(_ context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		e := s.entityFor(byID, d)
		if e == nil {
			return nil, nil
		}
		return logical.DataResponse(s.entityData(e)), nil
	}
}

// deleteEntity serves DELETE entity/id/:id and entity/name/:name.
func (s *Store) deleteEntity(byID bool) logical.Handler {
	return func(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		id := d.String("id")
		if !byID {
			var ok bool
			if id, ok = s.idx.entityByName[d.String("name")]; !ok {
				return nil, nil
			}
		}
		return nil, s.deleteEntitiesLocked(ctx, []string{id})
	}
}

func (s *Store) batchDeleteEntities(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	ids := d.Strings("entity_ids")
	if len(ids) == 0 {
		return nil, logical.InvalidRequest("missing entity ids to delete")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return nil, s.deleteEntitiesLocked(ctx, ids)
}

// deleteEntitiesLocked deletes the entities (their aliases go with them)
// and removes them from every group, in one storage write. Unknown IDs are
// skipped, as Vault does.
func (s *Store) deleteEntitiesLocked(ctx context.Context, ids []string) error {
	c := &change{}
	now := s.now()
	for _, id := range normalize(ids) {
		if _, ok := s.idx.entities[id]; !ok {
			continue
		}
		c.deleteEntity = append(c.deleteEntity, id)
		for gid := range s.idx.entityGroups[id] {
			if _, ok := s.idx.groups[gid]; !ok {
				continue
			}
			g := c.group(s.idx, gid)
			g.MemberEntityIDs = slices.DeleteFunc(g.MemberEntityIDs, func(m string) bool { return m == id })
			g.touch(now)
		}
	}
	return s.commit(ctx, c)
}

// listEntities serves LIST entity/id (keys and key_info) and entity/name
// (names only, as Vault's key_info is keyed by ID and so dropped there).
func (s *Store) listEntities(byID bool) logical.Handler {
	return func(_ context.Context, _ *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		keys := make([]string, 0, len(s.idx.entities))
		info := make(map[string]any, len(s.idx.entities))
		for _, e := range s.idx.entities {
			if !byID {
				keys = append(keys, e.Name)
				continue
			}
			keys = append(keys, e.ID)
			aliases := make([]any, 0, len(e.Aliases))
			for _, a := range e.Aliases {
				mi, _ := s.mount(a.MountAccessor)
				aliases = append(aliases, map[string]any{
					"id": a.ID, "name": a.Name, "mount_accessor": a.MountAccessor,
					"mount_type": mi.Type, "mount_path": mi.Path,
				})
			}
			info[e.ID] = map[string]any{"name": e.Name, "aliases": aliases}
		}
		slices.Sort(keys)
		if !byID {
			return logical.ListResponse(keys), nil
		}
		return listWithInfo(keys, info), nil
	}
}
