package identity

import (
	"context"
	"slices"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

func (s *Store) mergePath() *logical.Path {
	return &logical.Path{
		Pattern: `entity/merge`,
		Fields: map[string]*logical.Field{
			"from_entity_ids": listField("Entities to merge into to_entity_id; they are deleted."),
			"to_entity_id":    strField("Entity the others are merged into."),
			"force":           boolField("On alias conflicts (two aliases on one mount), keep to_entity_id's alias."),
			"conflicting_alias_ids_to_keep": listField(
				"On alias conflicts, the alias IDs to keep; the other alias on that mount is deleted."),
		},
		Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: s.mergeEntities},
		Help:       "Merge entities: their aliases move to one entity and the others are deleted.",
	}
}

// mergeEntities serves entity/merge. Aliases of the from-entities move to
// the to-entity (recording where they came from); an alias on a mount where
// the to-entity already has one is a conflict, answered with 400 unless
// force is set (the to-entity's alias wins) or conflicting_alias_ids_to_keep
// names the alias to keep. The from-entities' group memberships pass to the
// to-entity, and the from-entities are deleted, all in one storage write.
// Policies are not merged, as in Vault.
func (s *Store) mergeEntities(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	toID := d.String("to_entity_id")
	from := normalize(d.Strings("from_entity_ids"))
	if toID == "" {
		return nil, logical.InvalidRequest("missing entity id to merge to")
	}
	if len(from) == 0 {
		return nil, logical.InvalidRequest("missing entity ids to merge from")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	to, ok := s.idx.entities[toID]
	if !ok {
		return nil, logical.InvalidRequest("entity id to merge to is invalid")
	}
	to = to.clone()
	c := &change{entities: []*Entity{to}}
	now := s.now()
	for _, fromID := range from {
		if err := s.planMergeOne(c, to, fromID, d, now); err != nil {
			return nil, err
		}
	}
	to.LastUpdateTime = now
	if err := s.commit(ctx, c); err != nil {
		return nil, err
	}
	s.logger.Info("identity: entities merged", "to_entity_id", toID, "from_entity_ids", from)
	return nil, nil
}

// planMergeOne adds the merge of one from-entity into to to c.
func (s *Store) planMergeOne(c *change, to *Entity, fromID string, d *logical.FieldData, now time.Time) error {
	if fromID == to.ID {
		return logical.InvalidRequest("to_entity_id should not be present in from_entity_ids")
	}
	fe, ok := s.idx.entities[fromID]
	if !ok {
		return logical.InvalidRequest("entity id to merge from is invalid")
	}
	keep := d.Strings("conflicting_alias_ids_to_keep")
	for _, fa := range fe.Aliases {
		if ta := to.aliasOn(fa.MountAccessor); ta != nil {
			switch {
			case slices.Contains(keep, fa.ID):
				to.Aliases = slices.DeleteFunc(to.Aliases, func(a *Alias) bool { return a == ta })
			case d.Bool("force") || slices.Contains(keep, ta.ID):
				continue // the from-entity's alias is dropped
			default:
				return logical.InvalidRequest(
					"conflicting mount accessors in following alias IDs and neither were present in conflicting_alias_ids_to_keep: %s, %s",
					fa.ID, ta.ID)
			}
		}
		na := fa.clone()
		na.CanonicalID = to.ID
		na.MergedFromCanonicalIDs = append(na.MergedFromCanonicalIDs, fromID)
		na.LastUpdateTime = now
		to.Aliases = append(to.Aliases, na)
	}
	to.MergedEntityIDs = append(append(to.MergedEntityIDs, fe.MergedEntityIDs...), fromID)
	c.deleteEntity = append(c.deleteEntity, fromID)
	for gid := range s.idx.entityGroups[fromID] {
		if _, ok := s.idx.groups[gid]; !ok {
			continue
		}
		g := c.group(s.idx, gid)
		members := slices.DeleteFunc(g.MemberEntityIDs, func(m string) bool { return m == fromID })
		g.MemberEntityIDs = normalize(append(members, to.ID))
		g.touch(now)
	}
	return nil
}
