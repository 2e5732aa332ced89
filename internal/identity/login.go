package identity

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// Login maps a login's alias (alias.Name within mountAccessor) to an
// entity, creating the entity and alias on first login, updating the
// alias's metadata when it changed, and setting the entity's membership of
// the external groups aliased on that mount to exactly the groups whose
// group-alias names appear in groupAliases (unknown names are ignored).
// External groups without an alias lose the entity too.
//
// Storage is written only when something changed, so repeated logins with
// the same data only take the read lock. A disabled entity returns
// ErrEntityDisabled and nothing is written.
func (s *Store) Login(ctx context.Context, mountAccessor string, alias *logical.Alias, groupAliases []*logical.Alias) (string, error) {
	if mountAccessor == "" || alias == nil || alias.Name == "" {
		return "", ErrInvalidAlias
	}
	s.mu.RLock()
	id, c, err := s.planLogin(mountAccessor, alias, groupAliases, s.now())
	s.mu.RUnlock()
	if err != nil || c.empty() {
		return id, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Plan again: another writer may have run between the two locks.
	id, c, err = s.planLogin(mountAccessor, alias, groupAliases, s.now())
	if err != nil {
		return "", err
	}
	_, existed := s.idx.entities[id]
	if err := s.commit(ctx, c); err != nil {
		return "", err
	}
	if !existed {
		s.logger.Debug("identity: entity created at login", "entity_id", id, "mount_accessor", mountAccessor)
	}
	return id, nil
}

// planLogin computes what a login changes without changing anything.
// Callers hold s.mu (read or write). The returned change is empty when the
// login matches what is stored.
func (s *Store) planLogin(accessor string, la *logical.Alias, groupAliases []*logical.Alias, now time.Time) (string, *change, error) {
	c := &change{}
	var e *Entity
	if aliasID, ok := s.idx.aliasByKey[aliasKey{accessor, la.Name}]; ok {
		e = s.idx.entities[s.idx.aliasEntity[aliasID]]
		if e.Disabled {
			return "", nil, ErrEntityDisabled
		}
		if a := e.aliasByID(aliasID); !maps.Equal(a.Metadata, la.Metadata) {
			e = e.clone()
			a = e.aliasByID(aliasID)
			a.Metadata = maps.Clone(la.Metadata)
			a.LastUpdateTime = now
			e.LastUpdateTime = now
			c.entities = append(c.entities, e)
		}
	} else {
		e = s.newEntityWithAliasLocked(accessor, la.Name, la.Metadata, now)
		c.entities = append(c.entities, e)
	}
	s.planGroupSync(c, e.ID, accessor, groupAliases, now)
	return e.ID, c, nil
}

// newEntityWithAliasLocked makes a new entity whose one alias is name on
// the mount with accessor. Callers hold s.mu.
func (s *Store) newEntityWithAliasLocked(accessor, name string, meta map[string]string, now time.Time) *Entity {
	e := s.newEntityLocked(now)
	e.Aliases = []*Alias{{
		ID: newID(), CanonicalID: e.ID, MountAccessor: accessor, Name: name,
		Metadata: maps.Clone(meta), CreationTime: now, LastUpdateTime: now,
	}}
	return e
}

// EntityForAlias returns the entity that has the alias name on the mount
// with accessor, creating the entity and alias when there is none, as
// Vault's CreateOrFetchEntity does for a token created with an
// entity_alias. Unlike Login it changes nothing about an existing alias
// (its metadata stays) or the entity's groups. A disabled entity returns
// ErrEntityDisabled.
func (s *Store) EntityForAlias(ctx context.Context, accessor, name string) (string, error) {
	if accessor == "" || name == "" {
		return "", ErrInvalidAlias
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if aliasID, ok := s.idx.aliasByKey[aliasKey{accessor, name}]; ok {
		e := s.idx.entities[s.idx.aliasEntity[aliasID]]
		if e.Disabled {
			return "", ErrEntityDisabled
		}
		return e.ID, nil
	}
	e := s.newEntityWithAliasLocked(accessor, name, nil, s.now())
	if err := s.commit(ctx, &change{entities: []*Entity{e}}); err != nil {
		return "", err
	}
	s.logger.Debug("identity: entity created for a token's entity alias", "entity_id", e.ID, "mount_accessor", accessor)
	return e.ID, nil
}

// planGroupSync adds to c the external-group membership changes that make
// the entity a member of exactly the groups aliased on the mount under the
// names in groupAliases.
func (s *Store) planGroupSync(c *change, entityID, accessor string, groupAliases []*logical.Alias, now time.Time) {
	want := map[string]struct{}{}
	for _, ga := range groupAliases {
		if ga == nil {
			continue
		}
		if gid, ok := s.idx.groupAliasByKey[aliasKey{accessor, ga.Name}]; ok {
			want[gid] = struct{}{}
		}
	}
	for gid := range s.idx.entityGroups[entityID] {
		g := s.idx.groups[gid]
		// External groups aliased on other mounts are those mounts' to
		// set. An external group that lost its alias matches no login any
		// more: its membership is dropped, as Vault does.
		if g == nil || g.Type != GroupExternal || (g.Alias != nil && g.Alias.MountAccessor != accessor) {
			continue
		}
		if _, keep := want[gid]; keep {
			delete(want, gid)
			continue
		}
		ng := c.group(s.idx, gid)
		ng.MemberEntityIDs = slices.DeleteFunc(ng.MemberEntityIDs, func(id string) bool { return id == entityID })
		ng.touch(now)
	}
	for _, gid := range sortedKeys(want) {
		ng := c.group(s.idx, gid)
		ng.MemberEntityIDs = normalize(append(ng.MemberEntityIDs, entityID))
		ng.touch(now)
	}
}
