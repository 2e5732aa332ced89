package identity

import (
	"context"

	"github.com/cofferdev/coffer/internal/logical"
)

func lookupFields(kind string) map[string]*logical.Field {
	return map[string]*logical.Field{
		"id":                   strField("ID of the " + kind + "."),
		"name":                 strField("Name of the " + kind + "."),
		"alias_id":             strField("ID of an alias of the " + kind + "."),
		"alias_name":           strField("Name of an alias of the " + kind + "; needs alias_mount_accessor."),
		"alias_mount_accessor": strField("Mount accessor of alias_name."),
	}
}

func (s *Store) lookupPaths() []*logical.Path {
	return []*logical.Path{
		{
			Pattern:    `lookup/entity`,
			Fields:     lookupFields("entity"),
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: s.lookup(s.findEntity)},
			Help:       "Find an entity by id, name, alias_id, or alias_name and alias_mount_accessor.",
		},
		{
			Pattern:    `lookup/group`,
			Fields:     lookupFields("group"),
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: s.lookup(s.findGroup)},
			Help:       "Find a group by id, name, alias_id, or alias_name and alias_mount_accessor.",
		},
	}
}

// lookupCriterion returns the one criterion a lookup was given.
func lookupCriterion(d *logical.FieldData) (string, string, error) {
	crit, val, err := oneOf(d, "id", "name", "alias_id", "alias_name")
	if err != nil {
		return "", "", err
	}
	if crit == "" {
		return "", "", logical.InvalidRequest("missing lookup criterion: one of id, name, alias_id or alias_name")
	}
	if crit == "alias_name" && d.String("alias_mount_accessor") == "" {
		return "", "", logical.InvalidRequest("missing alias_mount_accessor")
	}
	return crit, val, nil
}

// lookup serves lookup/entity or lookup/group: find gives the data of the
// object the criterion names, or nil when nothing matches, answered with
// 204 as Vault does. find runs under s.mu.
func (s *Store) lookup(find func(crit, val, accessor string) map[string]any) logical.Handler {
	return func(_ context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		crit, val, err := lookupCriterion(d)
		if err != nil {
			return nil, err
		}
		s.mu.RLock()
		defer s.mu.RUnlock()
		data := find(crit, val, d.String("alias_mount_accessor"))
		if data == nil {
			return nil, nil
		}
		return logical.DataResponse(data), nil
	}
}

// findEntity is lookup's find for entities.
func (s *Store) findEntity(crit, val, accessor string) map[string]any {
	var id string
	switch crit {
	case "id":
		id = val
	case "name":
		id = s.idx.entityByName[val]
	case "alias_id":
		id = s.idx.aliasEntity[val]
	case "alias_name":
		id = s.idx.aliasEntity[s.idx.aliasByKey[aliasKey{accessor, val}]]
	}
	e, ok := s.idx.entities[id]
	if !ok {
		return nil
	}
	return s.entityData(e)
}

// findGroup is lookup's find for groups.
func (s *Store) findGroup(crit, val, accessor string) map[string]any {
	var id string
	switch crit {
	case "id":
		id = val
	case "name":
		id = s.idx.groupByName[val]
	case "alias_id":
		id = s.idx.groupAliasGroup[val]
	case "alias_name":
		id = s.idx.groupAliasByKey[aliasKey{accessor, val}]
	}
	g, ok := s.idx.groups[id]
	if !ok {
		return nil
	}
	return s.groupData(g)
}
