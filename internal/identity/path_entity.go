package identity

import (
	"context"
	"fmt"
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
	return []*logical.Path{
		{
			Pattern:    `entity/name/?`,
			Operations: map[logical.Operation]logical.Handler{logical.ListOperation: s.listEntities(false)},
			Help:       "List entity names.",
		},
		{
			Pattern: fmt.Sprintf(`entity/name/`+seg, "name"),
			Fields:  entityFields(),
			Operations: map[logical.Operation]logical.Handler{
				logical.ReadOperation:   s.readEntityByName,
				logical.UpdateOperation: s.writeEntityByName,
				logical.DeleteOperation: s.deleteEntityByName,
			},
			Help: "Create, read, update or delete an entity by name.",
		},
		{
			Pattern:    `entity/id/?`,
			Operations: map[logical.Operation]logical.Handler{logical.ListOperation: s.listEntities(true)},
			Help:       "List entity IDs.",
		},
		{
			Pattern: fmt.Sprintf(`entity/id/`+seg, "id"),
			Fields:  entityFields(),
			Operations: map[logical.Operation]logical.Handler{
				logical.ReadOperation:   s.readEntityByID,
				logical.UpdateOperation: s.writeEntityByID,
				logical.DeleteOperation: s.deleteEntityByID,
			},
			Help: "Read, update or delete an entity by ID.",
		},
		{
			Pattern:    `entity/batch-delete`,
			Fields:     map[string]*logical.Field{"entity_ids": listField("IDs of the entities to delete.")},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: s.batchDeleteEntities},
			Help:       "Delete several entities at once.",
		},
		s.mergePath(),
		{
			Pattern:    `entity`,
			Fields:     entityFields(),
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: s.registerEntity},
			Help:       "Create an entity, or update the one with the given id or name.",
		},
	}
}

// registerEntity serves POST entity: update by id, else by name, else create.
func (s *Store) registerEntity(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id := d.String("id"); id != "" {
		e, ok := s.idx.entities[id]
		if !ok {
			return nil, logical.InvalidRequest("entity not found from id")
		}
		return s.upsertEntityLocked(ctx, e, d)
	}
	if id, ok := s.idx.entityByName[d.String("name")]; ok {
		return s.upsertEntityLocked(ctx, s.idx.entities[id], d)
	}
	return s.upsertEntityLocked(ctx, nil, d)
}

func (s *Store) writeEntityByID(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.idx.entities[d.String("id")]
	if !ok {
		return nil, logical.InvalidRequest("entity not found from id")
	}
	return s.upsertEntityLocked(ctx, e, d)
}

func (s *Store) writeEntityByName(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var e *Entity
	if id, ok := s.idx.entityByName[d.String("name")]; ok {
		e = s.idx.entities[id]
	}
	return s.upsertEntityLocked(ctx, e, d)
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

func (s *Store) readEntityByID(_ context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.idx.entities[d.String("id")]
	if !ok {
		return nil, nil
	}
	return logical.DataResponse(s.entityData(e)), nil
}

func (s *Store) readEntityByName(_ context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.idx.entityByName[d.String("name")]
	if !ok {
		return nil, nil
	}
	return logical.DataResponse(s.entityData(s.idx.entities[id])), nil
}

func (s *Store) deleteEntityByID(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return nil, s.deleteEntitiesLocked(ctx, []string{d.String("id")})
}

func (s *Store) deleteEntityByName(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.idx.entityByName[d.String("name")]
	if !ok {
		return nil, nil
	}
	return nil, s.deleteEntitiesLocked(ctx, []string{id})
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
