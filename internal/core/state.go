package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferdev/coffer/internal/barrier"
	"github.com/cofferdev/coffer/internal/engine/cubbyhole"
	"github.com/cofferdev/coffer/internal/identity"
	"github.com/cofferdev/coffer/internal/lease"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/token"
)

// Barrier keys of the core's own records.
const (
	tokenHMACKeyKey = "sys/config/token-hmac-key"
	clusterInfoKey  = "sys/config/cluster"
	tokenStorePath  = "sys/token/"
	policyStorePath = "sys/policy/"
	// identityStorePath holds entities, aliases and groups.
	identityStorePath = "sys/identity/"
	// batchTokenKeyKey holds the key that seals batch tokens.
	batchTokenKeyKey = "sys/config/batch-token-key"
)

// tokenSweepInterval is how often expired tokens are removed from storage.
// Expiry itself is enforced at lookup time, so this only bounds garbage.
const tokenSweepInterval = 10 * time.Second

// setupUnsealed builds the unsealed state after the barrier opened. A
// standby (active false) writes nothing and starts no background work; its
// writes fail with storage.ErrReadOnly, which tells the caller the active
// node has not finished setting up yet.
func (c *Core) setupUnsealed(ctx context.Context, active bool) (*unsealedState, error) {
	hmacKey, err := c.loadOrCreateKey(ctx, tokenHMACKeyKey)
	if err != nil {
		return nil, err
	}
	if err := c.loadClusterInfo(ctx); err != nil {
		return nil, err
	}
	batchKey, err := c.loadOrCreateKey(ctx, batchTokenKeyKey)
	if err != nil {
		return nil, err
	}
	st := &unsealedState{mounts: &mountTable{entries: map[string]*MountEntry{}}, system: c, active: active}
	st.policies = newPolicyStore(storage.NewView(c.barrier, policyStorePath))
	st.tokens = token.NewStore(storage.NewView(c.barrier, tokenStorePath), hmacKey, token.Options{
		Now:        c.now,
		DefaultTTL: func() time.Duration { return st.tokenMountView().DefaultLeaseTTL() },
		MaxTTL:     func() time.Duration { return st.tokenMountView().MaxLeaseTTL() },
		OnRevoke:   func(ctx context.Context, e *token.Entry) error { return c.onTokenRevoke(ctx, st, e) },
		OnRenew: func(ctx context.Context, e *token.Entry) (*token.RenewTerms, error) {
			return c.loginRenewal(ctx, st, e)
		},
		EntityForAlias: func(ctx context.Context, name string) (string, error) {
			return st.tokenEntityForAlias(ctx, name)
		},
		BatchKey: batchKey,
		Logger:   c.logger,
	})
	clear(hmacKey)
	clear(batchKey)
	st.tokenBackend = token.NewBackend(st.tokens)
	if st.identity, err = identity.New(ctx, storage.NewView(c.barrier, identityStorePath), c.logger); err != nil {
		return nil, fmt.Errorf("core: load identity store: %w", err)
	}
	st.leases = lease.New(storage.NewView(c.barrier, leaseStorePath), &leaseRevoker{st: st},
		lease.Options{Now: c.now, Logger: c.logger})
	if err := st.policies.ensureDefault(ctx); err != nil {
		return nil, err
	}
	entries, err := c.loadMounts(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range entries {
		if err := c.instantiate(ctx, st, m); err != nil {
			return nil, err
		}
		st.mounts.entries[m.Path] = m
	}
	st.identity.SetMountResolver(st.mounts.identityMount)
	if err := c.auditUnlock(ctx); err != nil {
		return nil, err
	}
	if err := c.loadNetwork(ctx, st); err != nil {
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	st.background, st.cancel = bg, cancel
	if !active {
		return st, nil
	}
	if err := c.finishKVUpgrades(ctx, st); err != nil {
		cancel()
		return nil, err
	}
	if err := st.leases.Start(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("core: start lease manager: %w", err)
	}
	st.wg.Add(1)
	go c.sweepTokens(bg, st)
	return st, nil
}

// tokenMountView is the TTL view of auth/token/, so tuning that mount sets
// the default and maximum TTL of tokens. Before the mount table loads it
// falls back to the system values.
func (st *unsealedState) tokenMountView() logical.SystemView {
	if m := st.mounts.get("auth/token/"); m != nil && m.sys.cfg != nil {
		return m.sys
	}
	return st.system
}

// tokenEntityForAlias finds or creates the entity with the alias name on
// the token mount, for a token created with an entity_alias.
func (st *unsealedState) tokenEntityForAlias(ctx context.Context, name string) (string, error) {
	m := st.mounts.get("auth/token/")
	if m == nil || st.identity == nil {
		return "", errors.New("core: the token mount or the identity store is missing")
	}
	id, err := st.identity.EntityForAlias(ctx, m.Accessor, name)
	if errors.Is(err, identity.ErrEntityDisabled) {
		return "", logical.InvalidRequest("entity from given entity alias is disabled")
	}
	return id, err
}

// stop ends background work and lets backends release resources.
func (st *unsealedState) stop(ctx context.Context) {
	for _, f := range st.onStop {
		f()
	}
	st.leases.Stop()
	st.cancel()
	st.wg.Wait()
	for _, m := range st.mounts.persisted() {
		if cl, ok := m.backend.(logical.Cleaner); ok {
			cl.Cleanup(ctx)
		}
	}
}

func (c *Core) sweepTokens(ctx context.Context, st *unsealedState) {
	defer st.wg.Done()
	t := time.NewTicker(tokenSweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := st.tokens.RevokeExpired(ctx); err != nil {
				if ctx.Err() == nil {
					c.logger.Warn("core: sweeping expired tokens failed", "error", err)
				}
			} else if n > 0 {
				c.logger.Debug("core: revoked expired tokens", "count", n)
			}
		}
	}
}

// onTokenRevoke schedules the revocation of a revoked token's leases and
// wipes its cubbyhole.
func (c *Core) onTokenRevoke(ctx context.Context, st *unsealedState, e *token.Entry) error {
	if _, err := st.leases.RevokeByToken(ctx, e.Accessor); err != nil {
		return fmt.Errorf("core: revoke leases of token: %w", err)
	}
	m := st.mounts.get("cubbyhole/")
	if m == nil || e.CubbyholeID == "" {
		return nil
	}
	return storage.DeletePrefix(ctx, m.view, cubbyhole.Prefix(e.CubbyholeID))
}

// loadOrCreateKey returns a 32-byte key kept in the barrier, creating it once.
func (c *Core) loadOrCreateKey(ctx context.Context, key string) ([]byte, error) {
	e, err := c.barrier.Get(ctx, key)
	if err == nil {
		if len(e.Value) != 32 {
			return nil, fmt.Errorf("core: key %s has the wrong length", key)
		}
		return append([]byte(nil), e.Value...), nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	k, err := barrier.GenerateKey()
	if err != nil {
		return nil, err
	}
	if err := c.barrier.Put(ctx, &storage.Entry{Key: key, Value: k}); err != nil {
		return nil, err
	}
	return k, nil
}

func (c *Core) loadClusterInfo(ctx context.Context) error {
	e, err := c.barrier.Get(ctx, clusterInfoKey)
	if err == nil {
		id, name, ok := splitClusterInfo(string(e.Value))
		if !ok {
			return errors.New("core: corrupt cluster info")
		}
		c.clusterID, c.clusterName = id, name
		return nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	id := newID()
	name := "coffer-cluster-" + id[:8]
	if err := c.barrier.Put(ctx, &storage.Entry{Key: clusterInfoKey, Value: []byte(id + "\n" + name)}); err != nil {
		return err
	}
	c.clusterID, c.clusterName = id, name
	return nil
}

func splitClusterInfo(s string) (id, name string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i], s[i+1:], i > 0 && i < len(s)-1
		}
	}
	return "", "", false
}

// createRootToken issues a root token (at init and by generate-root).
func (c *Core) createRootToken(ctx context.Context) (string, error) {
	st, release, err := c.state()
	if err != nil {
		return "", err
	}
	defer release()
	raw, _, err := st.tokens.Create(ctx, token.CreateParams{
		Policies: []string{"root"}, NoDefaultPolicy: true, DisplayName: "root",
		Path: "auth/token/root", Orphan: true, NoExpiry: true,
	})
	if err != nil {
		return "", fmt.Errorf("core: create root token: %w", err)
	}
	return raw, nil
}

// CreateRootTokenWithID issues a root token with a chosen id. Only dev mode
// uses it (`-dev-root-token-id`), as Vault does.
func (c *Core) CreateRootTokenWithID(ctx context.Context, id string) (string, error) {
	st, release, err := c.state()
	if err != nil {
		return "", err
	}
	defer release()
	raw, _, err := st.tokens.Create(ctx, token.CreateParams{
		ID: id, Policies: []string{"root"}, NoDefaultPolicy: true, DisplayName: "root",
		Path: "auth/token/root", Orphan: true, NoExpiry: true,
	})
	if err != nil {
		return "", fmt.Errorf("core: create root token: %w", err)
	}
	return raw, nil
}
