package core

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/cofferdev/coffer/internal/barrier"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/policy"
)

// maxPendingInvalidations bounds the keys kept for a state still being
// built; past it they are dropped and the state is built again.
const maxPendingInvalidations = 1 << 16

// Invalidate is called by clustered storage, from its apply loop and in log
// order, with the physical keys each replicated write touched, before the
// write becomes visible to a read that waited for it. It must stay quick,
// and it must not take the barrier's lock: on the active node the apply
// loop runs while a keyring rotation holds it.
//
//   - On a standby, every cached copy of those entries is dropped.
//   - On the active node, in the term its state was built in, the writes
//     are its own and its caches were written through: nothing to do.
//   - Otherwise (a role change waits for in-flight requests, a state is
//     being built, or this node was deposed and has not rebuilt yet) the
//     keys are kept for the next state, which applies them before it is
//     published, and every cached value is dropped now, so not even a
//     request still running in the old state reads a replaced value.
func (c *Core) Invalidate(physicalKeys []string) {
	if c.ha == nil || len(physicalKeys) == 0 {
		return
	}
	c.queueInvalidations(physicalKeys)
	if c.stateLock.TryRLock() {
		st := c.unsealed
		switch {
		case st != nil && !st.active:
			c.invalidateKeys(context.Background(), st, c.takeInvalidations())
			c.stateLock.RUnlock()
			return
		case st != nil && c.ownWrites(st):
			c.takeInvalidations()
			c.stateLock.RUnlock()
			return
		}
		c.stateLock.RUnlock()
	}
	c.barrier.ClearCache()
}

// ownWrites reports whether the entries the active state st now applies
// are its own: this node still leads, in the term st was built in (the
// state was built after every earlier term's entries were applied).
func (c *Core) ownWrites(st *unsealedState) bool {
	return st.active && c.ha.ha.IsLeader() && c.ha.ha.Term() == st.term
}

func (c *Core) queueInvalidations(keys []string) {
	c.ha.invalMu.Lock()
	defer c.ha.invalMu.Unlock()
	if len(c.ha.invalPending)+len(keys) > maxPendingInvalidations {
		// Too many to track for a state that is not being built (a sealed
		// node) or takes long: build it again from storage instead.
		c.ha.invalPending = nil
		c.ha.rebuild.Store(true)
		c.ha.poke()
		return
	}
	c.ha.invalPending = append(c.ha.invalPending, keys...)
}

// InvalidateAll is called after a snapshot was restored under this node:
// the standby state is rebuilt from scratch.
func (c *Core) InvalidateAll() {
	if c.ha == nil {
		return
	}
	// Before the restored index becomes visible to readers.
	c.barrier.ClearCache()
	c.ha.rebuild.Store(true)
	c.ha.poke()
}

func (c *Core) takeInvalidations() []string {
	c.ha.invalMu.Lock()
	defer c.ha.invalMu.Unlock()
	keys := c.ha.invalPending
	c.ha.invalPending = nil
	return keys
}

// invalidateKeys drops what st and the barrier cache for each physical key.
func (c *Core) invalidateKeys(ctx context.Context, st *unsealedState, physicalKeys []string) {
	if c.barrier.Sealed() {
		return
	}
	mountsChanged := false
	for _, pk := range physicalKeys {
		key, err := c.barrier.DecodeKey(pk)
		switch {
		case errors.Is(err, barrier.ErrKeyringKey):
			if err := c.barrier.ReloadKeyring(ctx); err != nil {
				c.logger.Error("core: reloading the rotated keyring failed", "error", err)
			}
			continue
		case errors.Is(err, barrier.ErrNotBarrierKey):
			continue // seal records: read afresh whenever used
		case err != nil:
			// A name this node cannot decode (a key term it has not loaded
			// yet): drop every cached value rather than risk a stale one.
			c.logger.Warn("core: cannot decode a replicated key; clearing the value cache", "error", err)
			c.barrier.ClearCache()
			c.ha.rebuild.Store(true)
			c.ha.poke()
			continue
		}
		c.barrier.Invalidate(key)
		if key == mountTableKey {
			mountsChanged = true
			continue
		}
		c.invalidateKey(ctx, st, key)
	}
	if mountsChanged {
		if err := c.reloadMounts(ctx, st); err != nil {
			c.logger.Error("core: reloading the replicated mount table failed; rebuilding the standby state", "error", err)
			c.ha.rebuild.Store(true)
			c.ha.poke()
		}
	}
}

// invalidateKey routes one plaintext barrier key to the cache that holds it.
func (c *Core) invalidateKey(ctx context.Context, st *unsealedState, key string) {
	switch {
	case strings.HasPrefix(key, tokenStorePath):
		st.tokens.Invalidate(strings.TrimPrefix(key, tokenStorePath))
	case strings.HasPrefix(key, policyStorePath):
		st.policies.invalidate(strings.TrimPrefix(key, policyStorePath))
	case strings.HasPrefix(key, identityStorePath):
		st.identity.Invalidate(ctx, strings.TrimPrefix(key, identityStorePath))
	case strings.HasPrefix(key, quotaStorePath), key == quotaConfigPath:
		if qs, ok := c.network.(QuotaSink); ok {
			if err := c.pushQuotas(ctx, qs); err != nil {
				c.logger.Error("core: reloading replicated rate-limit quotas failed", "error", err)
			}
		}
	case strings.HasPrefix(key, "logical/"), strings.HasPrefix(key, "auth/"):
		table, rest, _ := strings.Cut(key, "/")
		uuid, rel, ok := strings.Cut(rest, "/")
		if !ok {
			return
		}
		if m := st.mounts.byUUID(table, uuid); m != nil {
			if inv, ok := m.backend.(logical.Invalidator); ok {
				inv.Invalidate(ctx, rel)
			}
		}
	}
}

// byUUID finds the mount whose storage lives under table/uuid/.
func (t *mountTable) byUUID(table, uuid string) *MountEntry {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, m := range t.entries {
		if m.UUID == uuid && (m.Table == tableAuth) == (table == "auth") {
			return m
		}
	}
	return nil
}

// reloadMounts brings a standby's mount table in line with the stored one:
// new mounts are instantiated, removed ones cleaned up, tuned ones get
// their new configuration; unchanged backends keep their caches.
func (c *Core) reloadMounts(ctx context.Context, st *unsealedState) error {
	e, err := c.barrier.Get(ctx, mountTableKey)
	if err != nil {
		return err
	}
	var stored []*MountEntry
	if err := json.Unmarshal(e.Value, &stored); err != nil {
		return err
	}
	st.mountLock.Lock()
	defer st.mountLock.Unlock()
	next := make(map[string]*MountEntry, len(stored))
	var removed []*MountEntry
	for _, m := range stored {
		if old := st.mounts.get(m.Path); old != nil && old.UUID == m.UUID && old.Type == m.Type {
			cfg := m.Config
			old.sys.cfg.Store(&cfg)
			old.Config, old.Description, old.Options = m.Config, m.Description, m.Options
			next[m.Path] = old
			continue
		}
		if err := c.instantiate(ctx, st, m); err != nil {
			return err
		}
		next[m.Path] = m
	}
	for _, old := range st.mounts.persisted() {
		if n, ok := next[old.Path]; !ok || n != old {
			removed = append(removed, old)
		}
	}
	st.mounts.mu.Lock()
	st.mounts.entries = next
	st.mounts.mu.Unlock()
	for _, m := range removed {
		if cl, ok := m.backend.(logical.Cleaner); ok {
			cl.Cleanup(ctx)
		}
	}
	return nil
}

// invalidate drops a replicated policy from the cache, and every compiled
// ACL with it.
func (ps *policyStore) invalidate(name string) {
	ps.mu.Lock()
	delete(ps.policies, name)
	ps.acls = map[string]*policy.ACL{}
	ps.mu.Unlock()
}
