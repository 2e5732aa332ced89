package core

import (
	"context"
	"fmt"

	"github.com/cofferdev/coffer/internal/engine/kv"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// KV v1 to v2 upgrades (Vault's `kv enable-versioning`, a tune of
// options.version to 2) copy the mount's data into fresh storage rather
// than rewriting it in place: KV v1 keys can look like KV v2's own, and a
// copy leaves the v1 data whole until the switch. The switch is one write
// of the mount table, which gives the mount the new storage's UUID.
//
//  1. Requests to the mount are refused (busy) and its storage's writes
//     closed, once those under way have finished.
//  2. The mount table records the copy's UUID (KVUpgradeUUID), so a start
//     after a crash wipes a half-made copy and the mount stays KV v1.
//  3. kv.UpgradeV1 copies every secret as version 1.
//  4. The mount table is written with the new UUID, version 2, and the old
//     storage as RetiredView; the new backend serves from then on.
//  5. The old storage is wiped and RetiredView cleared; a start that finds
//     RetiredView set finishes that.

// busyKVUpgrade is what a mount being upgraded is busy with; requests to
// it are told so (400) rather than finding no mount (404), as during a
// move.
const busyKVUpgrade = "being upgraded from KV version 1 to version 2"

// upgradeProgressEvery is how often, in secrets, the upgrade logs progress.
const upgradeProgressEvery = 1000

// upgradeKV upgrades the KV v1 mount m to KV v2; next is m as tuned, with
// options.version 2. It holds st.mountLock (the tune handler took it) and
// runs to the end even if the client goes away.
func (c *Core) upgradeKV(ctx context.Context, st *unsealedState, m, next *MountEntry) (*logical.Response, error) {
	gate, ok := m.view.(*storage.Gate)
	if !ok {
		return nil, fmt.Errorf("core: %s has no write gate", m.Path)
	}
	if st.mounts.isBusy(m.Path) {
		return nil, logical.InvalidRequest("%q is already being moved or upgraded", m.Path)
	}
	ctx = context.WithoutCancel(ctx)
	st.mounts.setBusy(m.Path, busyKVUpgrade)
	defer st.mounts.setBusy(m.Path, "")
	gate.Close(logical.InvalidRequest("the mount %s is %s; retry shortly", m.Path, busyKVUpgrade))

	target := *next
	target.UUID, target.RetiredView, target.KVUpgradeUUID = newID(), viewPrefix(m), ""
	pending := *m
	pending.KVUpgradeUUID = target.UUID
	if err := c.saveMountsWith(ctx, st, &pending); err != nil {
		gate.Open()
		return nil, err
	}
	c.logger.Info("core: upgrading a KV v1 mount to v2", "path", m.Path)
	n, err := kv.UpgradeV1(ctx, m.view, storage.NewView(c.barrier, viewPrefix(&target)), c.now(), func(n int) {
		if n%upgradeProgressEvery == 0 {
			c.logger.Info("core: KV upgrade in progress", "path", m.Path, "secrets", n)
		}
	})
	if err == nil {
		err = c.switchUpgradedMount(ctx, st, m, &target)
	}
	if err != nil {
		c.abandonKVUpgrade(ctx, st, m, target.UUID, err)
		gate.Open()
		return nil, err
	}
	c.logger.Info("core: KV mount upgraded to v2", "path", m.Path, "secrets", n)
	c.wipeRetiredView(ctx, st, &target)
	return &logical.Response{Warnings: []string{fmt.Sprintf(
		"Upgraded %s from KV version 1 to version 2: %d secrets are now version 1 of their keys.", m.Path, n)}}, nil
}

// switchUpgradedMount gives m's path the upgraded mount target: its
// backend is built, then the mount table written, then requests routed to
// it. The old backend is cleaned up; its storage is left to
// wipeRetiredView.
func (c *Core) switchUpgradedMount(ctx context.Context, st *unsealedState, m, target *MountEntry) error {
	if err := c.instantiate(ctx, st, target); err != nil {
		return err
	}
	if err := c.saveMountsWith(ctx, st, target); err != nil {
		if cl, ok := target.backend.(logical.Cleaner); ok {
			cl.Cleanup(ctx)
		}
		return err
	}
	st.mounts.mu.Lock()
	st.mounts.entries[m.Path] = target
	st.mounts.mu.Unlock()
	if cl, ok := m.backend.(logical.Cleaner); ok {
		cl.Cleanup(ctx)
	}
	return nil
}

// abandonKVUpgrade wipes a failed upgrade's copy and writes the mount table
// as it was; if that fails too, the next start finishes the job.
func (c *Core) abandonKVUpgrade(ctx context.Context, st *unsealedState, m *MountEntry, uuid string, cause error) {
	c.logger.Error("core: KV upgrade failed; the mount stays KV v1", "path", m.Path, "error", cause)
	copyOf := *m
	copyOf.UUID = uuid
	if err := storage.DeletePrefix(ctx, c.barrier, viewPrefix(&copyOf)); err != nil {
		c.logger.Warn("core: could not wipe the failed KV upgrade's copy; the next start will", "path", m.Path, "error", err)
		return
	}
	if err := c.saveMountsWith(ctx, st, m); err != nil {
		c.logger.Warn("core: could not clear the failed KV upgrade from the mount table; the next start will", "path", m.Path, "error", err)
	}
}

// wipeRetiredView deletes the KV v1 data m left behind and clears
// RetiredView; a failure is logged and left to the next start.
func (c *Core) wipeRetiredView(ctx context.Context, st *unsealedState, m *MountEntry) {
	if err := storage.DeletePrefix(ctx, c.barrier, m.RetiredView); err != nil {
		c.logger.Warn("core: could not wipe a KV mount's old data; the next start will", "path", m.Path, "error", err)
		return
	}
	done := *m
	done.RetiredView = ""
	if err := c.saveMountsWith(ctx, st, &done); err != nil {
		c.logger.Warn("core: could not record the wipe of a KV mount's old data", "path", m.Path, "error", err)
		return
	}
	st.mounts.mu.Lock()
	st.mounts.entries[m.Path] = &done
	st.mounts.mu.Unlock()
}

// finishKVUpgrades, on an active node's start, wipes what an interrupted
// upgrade left: a half-made copy (the mount stayed KV v1) or the old data
// of a finished one. It runs before requests are served.
func (c *Core) finishKVUpgrades(ctx context.Context, st *unsealedState) error {
	for _, m := range st.mounts.persisted() {
		switch {
		case m.KVUpgradeUUID != "":
			copyOf := *m
			copyOf.UUID = m.KVUpgradeUUID
			if err := storage.DeletePrefix(ctx, c.barrier, viewPrefix(&copyOf)); err != nil {
				return fmt.Errorf("core: wipe the unfinished KV upgrade of %s: %w", m.Path, err)
			}
			c.logger.Warn("core: a KV upgrade was interrupted; the mount stays KV v1 and can be upgraded again", "path", m.Path)
			m.KVUpgradeUUID = ""
		case m.RetiredView != "":
			if err := storage.DeletePrefix(ctx, c.barrier, m.RetiredView); err != nil {
				return fmt.Errorf("core: wipe the old data of %s: %w", m.Path, err)
			}
			m.RetiredView = ""
		default:
			continue
		}
		if err := c.saveMounts(ctx, st.mounts.persisted()); err != nil {
			return err
		}
	}
	return nil
}

// saveMountsWith writes the mount table with e in place of the entry at
// its path.
func (c *Core) saveMountsWith(ctx context.Context, st *unsealedState, e *MountEntry) error {
	var table []*MountEntry
	for _, cur := range st.mounts.persisted() {
		if cur.Path == e.Path {
			cur = e
		}
		table = append(table, cur)
	}
	return c.saveMounts(ctx, table)
}
