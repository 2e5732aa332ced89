package identity

import (
	"context"
	"sync"
)

// policyCache holds computed policy sets for one generation of the index.
// A write replaces the whole cache (under Store.mu's write lock), so an
// entry can never outlive the data it was computed from.
type policyCache struct {
	mu sync.RWMutex
	m  map[string]cachedPolicies
}

type cachedPolicies struct {
	policies []string
	disabled bool
}

func newPolicyCache() *policyCache {
	return &policyCache{m: map[string]cachedPolicies{}}
}

// Policies returns the sorted, deduplicated policies the entity gets from
// itself and from every group it belongs to: directly, as a member of an
// external group, or through parent groups (member_group_ids). An unknown
// entity gets nil and no error; a disabled one ErrEntityDisabled.
//
// Results are cached until the next identity write, and a cache hit does
// not allocate: the returned slice is shared, and callers must not modify
// it.
func (s *Store) Policies(_ context.Context, entityID string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.cache
	c.mu.RLock()
	p, ok := c.m[entityID]
	c.mu.RUnlock()
	if !ok {
		e, found := s.idx.entities[entityID]
		if !found {
			return nil, nil
		}
		p = cachedPolicies{disabled: e.Disabled}
		if !e.Disabled {
			p.policies = s.idx.policiesOf(e)
		}
		// Still under s.mu's read lock: no write can have replaced the
		// index or the cache since the lookup above.
		c.mu.Lock()
		c.m[entityID] = p
		c.mu.Unlock()
	}
	if p.disabled {
		return nil, ErrEntityDisabled
	}
	return p.policies, nil
}
