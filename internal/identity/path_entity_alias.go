package identity

import (
	"context"
	"fmt"
	"slices"

	"github.com/cofferdev/coffer/internal/logical"
)

func entityAliasFields() map[string]*logical.Field {
	return map[string]*logical.Field{
		"id":              strField("ID of the alias; when set, that alias is updated."),
		"name":            strField("Name of the alias within its mount (e.g. the username)."),
		"canonical_id":    strField("Entity the alias belongs to; a new entity is created when empty."),
		"mount_accessor":  strField("Accessor of the auth mount the alias belongs to."),
		"custom_metadata": mapField("Metadata set by operators (login metadata is separate)."),
	}
}

func (s *Store) entityAliasPaths() []*logical.Path {
	return []*logical.Path{
		{
			Pattern:    `entity-alias/id/?`,
			Operations: map[logical.Operation]logical.Handler{logical.ListOperation: s.listEntityAliases},
			Help:       "List entity alias IDs.",
		},
		{
			Pattern: fmt.Sprintf(`entity-alias/id/`+seg, "id"),
			Fields:  entityAliasFields(),
			Operations: map[logical.Operation]logical.Handler{
				logical.ReadOperation:   s.readEntityAlias,
				logical.UpdateOperation: s.writeEntityAliasByID,
				logical.DeleteOperation: s.deleteEntityAlias,
			},
			Help: "Read, update or delete an entity alias.",
		},
		{
			Pattern:    `entity-alias`,
			Fields:     entityAliasFields(),
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: s.registerEntityAlias},
			Help:       "Create an entity alias, or update the one with the given id.",
		},
	}
}

func aliasResponse(a *Alias) *logical.Response {
	return logical.DataResponse(map[string]any{"id": a.ID, "canonical_id": a.CanonicalID})
}

// registerEntityAlias serves POST entity-alias. Creating an alias whose
// mount and name already exist updates that alias when canonical_id is
// empty or names its entity, as Vault does.
func (s *Store) registerEntityAlias(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id := d.String("id"); id != "" {
		return s.updateEntityAliasLocked(ctx, id, d)
	}
	name, acc, cid := d.String("name"), d.String("mount_accessor"), d.String("canonical_id")
	if name == "" {
		return nil, logical.InvalidRequest("missing alias name")
	}
	if _, ok := s.mount(acc); !ok {
		return nil, logical.InvalidRequest("invalid mount accessor %q", acc)
	}
	if existing, ok := s.idx.aliasByKey[aliasKey{acc, name}]; ok {
		if cid == "" || cid == s.idx.aliasEntity[existing] {
			return s.updateEntityAliasLocked(ctx, existing, d)
		}
		return nil, logical.InvalidRequest("combination of mount and alias name is already in use")
	}
	custom, _, err := kvPairs(d, "custom_metadata")
	if err != nil {
		return nil, err
	}
	now := s.now()
	var e *Entity
	if cid == "" {
		e = s.newEntityLocked(now)
	} else {
		owner, ok := s.idx.entities[cid]
		if !ok {
			return nil, logical.InvalidRequest("invalid canonical ID %q", cid)
		}
		if owner.aliasOn(acc) != nil {
			return nil, logical.InvalidRequest("entity %q already has an alias on mount accessor %q", cid, acc)
		}
		e = owner.clone()
	}
	a := &Alias{ID: newID(), CanonicalID: e.ID, MountAccessor: acc, Name: name,
		CustomMetadata: custom, CreationTime: now, LastUpdateTime: now}
	e.Aliases = append(e.Aliases, a)
	e.LastUpdateTime = now
	if err := s.commit(ctx, &change{entities: []*Entity{e}}); err != nil {
		return nil, err
	}
	return aliasResponse(a), nil
}

func (s *Store) writeEntityAliasByID(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updateEntityAliasLocked(ctx, d.String("id"), d)
}

// updateEntityAliasLocked changes an alias's name, mount, custom metadata
// or entity (canonical_id), keeping (mount, name) unique and one alias per
// mount per entity. Moving an alias writes both entities in one
// transaction.
func (s *Store) updateEntityAliasLocked(ctx context.Context, id string, d *logical.FieldData) (*logical.Response, error) {
	ownerID, ok := s.idx.aliasEntity[id]
	if !ok {
		return nil, logical.InvalidRequest("invalid alias ID %q", id)
	}
	owner := s.idx.entities[ownerID].clone()
	a := owner.aliasByID(id)
	name, acc, cid := cmp(d.String("name"), a.Name), cmp(d.String("mount_accessor"), a.MountAccessor), cmp(d.String("canonical_id"), ownerID)
	if _, ok := s.mount(acc); !ok && acc != a.MountAccessor {
		return nil, logical.InvalidRequest("invalid mount accessor %q", acc)
	}
	if other, ok := s.idx.aliasByKey[aliasKey{acc, name}]; ok && other != id {
		return nil, logical.InvalidRequest("combination of mount and alias name is already in use")
	}
	c := &change{entities: []*Entity{owner}}
	target := owner
	if cid != ownerID {
		t, ok := s.idx.entities[cid]
		if !ok {
			return nil, logical.InvalidRequest("invalid canonical ID %q", cid)
		}
		target = t.clone()
		owner.Aliases = slices.DeleteFunc(owner.Aliases, func(x *Alias) bool { return x == a })
		target.Aliases = append(target.Aliases, a)
		c.entities = append(c.entities, target)
	}
	for _, other := range target.Aliases {
		if other != a && other.MountAccessor == acc {
			return nil, logical.InvalidRequest("entity %q already has an alias on mount accessor %q", cid, acc)
		}
	}
	custom, ok, err := kvPairs(d, "custom_metadata")
	if err != nil {
		return nil, err
	}
	if ok {
		a.CustomMetadata = custom
	}
	now := s.now()
	a.Name, a.MountAccessor, a.CanonicalID, a.LastUpdateTime = name, acc, cid, now
	for _, e := range c.entities {
		e.LastUpdateTime = now
	}
	if err := s.commit(ctx, c); err != nil {
		return nil, err
	}
	return aliasResponse(a), nil
}

// cmp returns v, or def when v is empty.
func cmp(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (s *Store) readEntityAlias(_ context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ownerID, ok := s.idx.aliasEntity[d.String("id")]
	if !ok {
		return nil, nil
	}
	return logical.DataResponse(s.aliasData(s.idx.entities[ownerID].aliasByID(d.String("id")))), nil
}

// deleteEntityAlias removes an alias from its entity; the entity stays.
func (s *Store) deleteEntityAlias(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := d.String("id")
	ownerID, ok := s.idx.aliasEntity[id]
	if !ok {
		return nil, nil
	}
	e := s.idx.entities[ownerID].clone()
	e.Aliases = slices.DeleteFunc(e.Aliases, func(a *Alias) bool { return a.ID == id })
	e.LastUpdateTime = s.now()
	return nil, s.commit(ctx, &change{entities: []*Entity{e}})
}

func (s *Store) listEntityAliases(_ context.Context, _ *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := make([]string, 0, len(s.idx.aliasEntity))
	info := make(map[string]any, len(s.idx.aliasEntity))
	for id, ownerID := range s.idx.aliasEntity {
		keys = append(keys, id)
		info[id] = s.aliasListInfo(s.idx.entities[ownerID].aliasByID(id))
	}
	slices.Sort(keys)
	return listWithInfo(keys, info), nil
}
