package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cofferdev/coffer/internal/barrier"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/seal"
	"github.com/cofferdev/coffer/internal/seal/shamir"
	"github.com/cofferdev/coffer/internal/storage"
)

// Physical keys the seal layer owns. They sit outside the barrier (the
// barrier refuses keys under "core/seal/") because they are needed before
// the barrier can be opened. None of them holds a secret in plaintext.
const (
	sealConfigKey  = "core/seal/config"       // JSON sealRecord
	rootKeyKey     = "core/seal/root-key"     // root key wrapped by the unseal key or auto seal
	recoveryKeyKey = "core/seal/recovery-key" // recovery key wrapped by the auto seal
)

// sealRecord is the persisted seal configuration.
type sealRecord struct {
	Barrier  seal.Config  `json:"barrier"`
	Recovery *seal.Config `json:"recovery,omitempty"`
}

// InitParams are the inputs of sys/init.
type InitParams struct {
	SecretShares      int
	SecretThreshold   int
	RecoveryShares    int
	RecoveryThreshold int
}

// InitResult holds the key shares and root token that sys/init returns once.
type InitResult struct {
	Keys         [][]byte
	RecoveryKeys [][]byte
	RootToken    string
}

// SealStatus is what sys/seal-status reports.
type SealStatus struct {
	Type         string
	Initialized  bool
	Sealed       bool
	Threshold    int
	Shares       int
	Progress     int
	Nonce        string
	RecoverySeal bool
	StorageType  string
	ClusterName  string
	ClusterID    string
}

// Initialize creates the keyring, splits the unseal (or recovery) key into
// shares and issues the initial root token. With Shamir the core is sealed
// again afterwards, as in Vault; with an auto seal it stays unsealed.
func (c *Core) Initialize(ctx context.Context, p InitParams) (*InitResult, error) {
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	if ok, err := c.barrier.Initialized(ctx); err != nil {
		return nil, err
	} else if ok {
		return nil, ErrAlreadyInitialized
	}
	if c.join != nil {
		return nil, logical.InvalidRequest("this node is joining a cluster; unseal it with that cluster's keys instead")
	}
	if err := c.bootstrapForInit(ctx); err != nil {
		return nil, err
	}
	rec, err := c.sealRecordFor(p)
	if err != nil {
		return nil, err
	}
	rootKey, err := barrier.GenerateKey()
	if err != nil {
		return nil, err
	}
	defer clear(rootKey)
	res, ops, err := c.wrapNewRootKey(ctx, rec, rootKey)
	if err != nil {
		return nil, err
	}
	recJSON, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	ops = append(ops, storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: sealConfigKey, Value: recJSON}})
	// Seal records first, keyring second: a crash in between leaves the
	// storage uninitialized (no keyring), and init can simply run again.
	if err := c.physical.Transaction(ctx, ops); err != nil {
		return nil, fmt.Errorf("core: store seal records: %w", err)
	}
	if err := c.barrier.Initialize(ctx, rootKey); err != nil {
		return nil, fmt.Errorf("core: initialize barrier: %w", err)
	}
	if err := c.unsealWithRootKey(ctx, rootKey); err != nil {
		return nil, err
	}
	res.RootToken, err = c.createRootToken(ctx)
	if err != nil {
		return nil, err
	}
	c.logger.Info("core: initialized", "seal", rec.Barrier.Type, "shares", rec.Barrier.SecretShares, "threshold", rec.Barrier.SecretThreshold)
	if c.autoSeal == nil {
		c.sealLocked(ctx)
	}
	return res, nil
}

func (c *Core) sealRecordFor(p InitParams) (*sealRecord, error) {
	if c.autoSeal == nil {
		if p.RecoveryShares != 0 || p.RecoveryThreshold != 0 {
			return nil, logical.InvalidRequest("recovery shares are only used with an auto seal")
		}
		rec := &sealRecord{Barrier: seal.Config{Type: "shamir", SecretShares: p.SecretShares, SecretThreshold: p.SecretThreshold}}
		if err := rec.Barrier.Validate(); err != nil {
			return nil, logical.InvalidRequest("%v", err)
		}
		return rec, nil
	}
	if p.SecretShares != 0 && p.SecretShares != 1 {
		return nil, logical.InvalidRequest("secret_shares is not used with an auto seal; use recovery_shares")
	}
	shares, threshold := p.RecoveryShares, p.RecoveryThreshold
	if shares == 0 && threshold == 0 {
		shares, threshold = 5, 3
	}
	rec := &sealRecord{
		Barrier:  seal.Config{Type: c.autoSeal.Type(), SecretShares: 1, SecretThreshold: 1},
		Recovery: &seal.Config{Type: "shamir", SecretShares: shares, SecretThreshold: threshold},
	}
	if err := rec.Recovery.Validate(); err != nil {
		return nil, logical.InvalidRequest("recovery: %v", err)
	}
	return rec, nil
}

// wrapNewRootKey protects rootKey with the seal and returns the shares to
// hand out plus the storage writes that persist the wrapped keys.
func (c *Core) wrapNewRootKey(ctx context.Context, rec *sealRecord, rootKey []byte) (*InitResult, []storage.TxnOp, error) {
	res := &InitResult{}
	if c.autoSeal == nil {
		shares, wrapped, err := newShamirKey(rootKey, rec.Barrier)
		if err != nil {
			return nil, nil, err
		}
		res.Keys = shares
		return res, []storage.TxnOp{putOp(rootKeyKey, wrapped)}, nil
	}
	wrappedRoot, err := c.autoSeal.Wrap(ctx, rootKey)
	if err != nil {
		return nil, nil, fmt.Errorf("core: wrap root key with %s seal: %w", c.autoSeal.Type(), err)
	}
	recoveryKey, err := barrier.GenerateKey()
	if err != nil {
		return nil, nil, err
	}
	defer clear(recoveryKey)
	shares, err := splitKey(recoveryKey, *rec.Recovery)
	if err != nil {
		return nil, nil, err
	}
	wrappedRecovery, err := c.autoSeal.Wrap(ctx, recoveryKey)
	if err != nil {
		return nil, nil, fmt.Errorf("core: wrap recovery key: %w", err)
	}
	res.RecoveryKeys = shares
	return res, []storage.TxnOp{putOp(rootKeyKey, wrappedRoot), putOp(recoveryKeyKey, wrappedRecovery)}, nil
}

// newShamirKey makes a fresh unseal key, wraps rootKey with it and splits it.
func newShamirKey(rootKey []byte, cfg seal.Config) ([][]byte, []byte, error) {
	unsealKey, err := barrier.GenerateKey()
	if err != nil {
		return nil, nil, err
	}
	defer clear(unsealKey)
	wrapped, err := seal.WrapWithKey(unsealKey, rootKey, []byte(rootKeyKey))
	if err != nil {
		return nil, nil, err
	}
	shares, err := splitKey(unsealKey, cfg)
	if err != nil {
		return nil, nil, err
	}
	return shares, wrapped, nil
}

func splitKey(key []byte, cfg seal.Config) ([][]byte, error) {
	if cfg.SecretShares == 1 {
		return [][]byte{append([]byte(nil), key...)}, nil
	}
	return shamir.Split(key, cfg.SecretShares, cfg.SecretThreshold)
}

func putOp(key string, value []byte) storage.TxnOp {
	return storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: key, Value: value}}
}

func (c *Core) readSealRecord(ctx context.Context) (*sealRecord, error) {
	e, err := c.physical.Get(ctx, sealConfigKey)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, logical.ErrNotInitialized
	}
	if err != nil {
		return nil, err
	}
	var rec sealRecord
	if err := json.Unmarshal(e.Value, &rec); err != nil {
		return nil, fmt.Errorf("core: corrupt seal config: %w", err)
	}
	return &rec, nil
}

// Unseal adds one Shamir key share. When enough shares are in, it opens the
// barrier. A wrong combination resets progress and returns ErrBadUnsealKey.
func (c *Core) Unseal(ctx context.Context, share []byte) error {
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	if !c.barrier.Sealed() {
		return nil // unsealed, or a standby finishing its set-up
	}
	if c.join != nil && c.join.unsealer != nil {
		return c.unsealJoin(ctx, share)
	}
	if c.autoSeal != nil {
		return logical.InvalidRequest("this server uses an auto seal; it unseals itself")
	}
	rec, err := c.readSealRecord(ctx)
	if err != nil {
		return err
	}
	if c.unsealer == nil {
		if c.unsealer, err = shamir.NewUnsealer(rec.Barrier.SecretThreshold); err != nil {
			return err
		}
	}
	_, key, done, err := c.unsealer.Add(share)
	if err != nil {
		return logical.InvalidRequest("%v", err)
	}
	if !done {
		return nil
	}
	c.unsealer = nil
	defer clear(key)
	rootKey, err := c.unwrapRootKey(ctx, key)
	if err != nil {
		return err
	}
	defer clear(rootKey)
	return c.unsealWithRootKey(ctx, rootKey)
}

// unwrapRootKey opens the stored root key with a combined unseal key.
func (c *Core) unwrapRootKey(ctx context.Context, unsealKey []byte) ([]byte, error) {
	e, err := c.physical.Get(ctx, rootKeyKey)
	if err != nil {
		return nil, fmt.Errorf("core: read wrapped root key: %w", err)
	}
	rootKey, err := seal.UnwrapWithKey(unsealKey, e.Value, []byte(rootKeyKey))
	if err != nil {
		return nil, ErrBadUnsealKey
	}
	return rootKey, nil
}

// ResetUnseal discards the shares entered so far.
func (c *Core) ResetUnseal() {
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	c.unsealer = nil
}

// UnsealAuto unseals with the configured auto seal.
func (c *Core) UnsealAuto(ctx context.Context) error {
	if c.autoSeal == nil {
		return errors.New("core: no auto seal configured")
	}
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	if !c.barrier.Sealed() {
		return nil
	}
	e, err := c.physical.Get(ctx, rootKeyKey)
	if errors.Is(err, storage.ErrNotFound) {
		if c.ha != nil {
			// Raft may still be replaying the log that holds it.
			c.ha.autoUnseal.Store(true)
		}
		return logical.ErrNotInitialized
	}
	if err != nil {
		return err
	}
	rootKey, err := c.autoSeal.Unwrap(ctx, e.Value)
	if err != nil {
		return fmt.Errorf("core: %s seal could not unwrap the root key: %w", c.autoSeal.Type(), err)
	}
	defer clear(rootKey)
	return c.unsealWithRootKey(ctx, rootKey)
}

func (c *Core) unsealWithRootKey(ctx context.Context, rootKey []byte) error {
	if err := c.barrier.Unseal(ctx, rootKey); err != nil {
		if errors.Is(err, barrier.ErrWrongKey) {
			return ErrBadUnsealKey
		}
		return fmt.Errorf("core: unseal barrier: %w", err)
	}
	active := c.activeRole()
	if err := c.installState(ctx, active); err != nil {
		if c.ha != nil {
			// On a cluster the set-up can wait on others: the active node
			// finishing its own first unseal, or leadership settling. The
			// barrier stays open and the HA loop finishes the set-up.
			c.logger.Info("core: barrier unsealed; finishing the set-up in the background", "reason", err)
			c.ha.poke()
			return nil
		}
		c.barrier.Seal()
		return err
	}
	c.logger.Info("core: unsealed", "active", active)
	return nil
}

// Seal seals the core: background work stops, backends are cleaned up and
// the barrier forgets its keys.
func (c *Core) Seal(ctx context.Context) {
	if c.ha != nil {
		c.ha.autoUnseal.Store(false)
	}
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	c.sealLocked(ctx)
}

func (c *Core) sealLocked(ctx context.Context) {
	c.stateLock.Lock()
	st := c.unsealed
	c.unsealed = nil
	c.stateLock.Unlock()
	if st == nil {
		if !c.barrier.Sealed() {
			c.barrier.Seal() // a standby still waiting to finish its set-up
		}
		return
	}
	st.stop(ctx)
	c.auditLock()
	c.barrier.Seal()
	c.rekey, c.genRoot = nil, nil
	c.logger.Info("core: sealed")
}

// SealStatus reports the seal state for sys/seal-status.
func (c *Core) SealStatus(ctx context.Context) (*SealStatus, error) {
	s := &SealStatus{Type: "shamir", Sealed: c.Sealed(), StorageType: c.storageType}
	if c.autoSeal != nil {
		s.Type = c.autoSeal.Type()
	}
	rec, err := c.readSealRecord(ctx)
	if errors.Is(err, logical.ErrNotInitialized) {
		s.Sealed = true
		// A join waiting for shares reports the cluster's threshold. A
		// join in progress holds sealLock; its progress is not reported.
		if c.sealLock.TryLock() {
			if j := c.join; j != nil && j.unsealer != nil {
				s.Threshold, s.Shares = j.record.Barrier.SecretThreshold, j.record.Barrier.SecretShares
				s.Progress, s.Nonce = j.unsealer.Progress(), j.unsealer.Nonce()
			}
			c.sealLock.Unlock()
		}
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	ok, err := c.barrier.Initialized(ctx)
	if err != nil {
		return nil, err
	}
	s.Initialized = ok
	cfg := rec.Barrier
	if rec.Recovery != nil {
		cfg, s.RecoverySeal = *rec.Recovery, true
	}
	s.Threshold, s.Shares = cfg.SecretThreshold, cfg.SecretShares
	c.sealLock.Lock()
	if c.unsealer != nil {
		s.Progress, s.Nonce = c.unsealer.Progress(), c.unsealer.Nonce()
	}
	s.ClusterName, s.ClusterID = c.clusterName, c.clusterID
	c.sealLock.Unlock()
	return s, nil
}

func generateKey() ([]byte, error) { return barrier.GenerateKey() }
