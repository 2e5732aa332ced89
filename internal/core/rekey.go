package core

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/seal"
	"github.com/cofferdev/coffer/internal/seal/shamir"
	"github.com/cofferdev/coffer/internal/storage"
)

// rekeyAttempt is a rekey in progress: shares of the current key are being
// collected to authorise new shares under NewConfig.
type rekeyAttempt struct {
	newConfig seal.Config
	collector *shamir.Unsealer
}

// RekeyStatus is what sys/rekey/init reports.
type RekeyStatus struct {
	Started   bool
	Nonce     string
	Threshold int // new threshold
	Shares    int // new shares
	Progress  int
	Required  int // shares of the current key needed
}

// RekeyResult carries the new shares once a rekey completes.
type RekeyResult struct {
	Complete bool
	Nonce    string
	Keys     [][]byte
}

// currentKeyConfig is the config of the key an operator proves possession
// of: the unseal key with Shamir, the recovery key with an auto seal.
func (c *Core) currentKeyConfig(ctx context.Context) (*sealRecord, seal.Config, error) {
	rec, err := c.readSealRecord(ctx)
	if err != nil {
		return nil, seal.Config{}, err
	}
	if rec.Recovery != nil {
		return rec, *rec.Recovery, nil
	}
	return rec, rec.Barrier, nil
}

// RekeyInit starts a rekey to new shares. Only one can run at a time.
func (c *Core) RekeyInit(ctx context.Context, shares, threshold int) (*RekeyStatus, error) {
	if c.Sealed() {
		return nil, logical.ErrSealed
	}
	if err := c.requireActive(ctx, "rekey"); err != nil {
		return nil, err
	}
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	if c.rekey != nil {
		return nil, logical.InvalidRequest("rekey already in progress")
	}
	_, cur, err := c.currentKeyConfig(ctx)
	if err != nil {
		return nil, err
	}
	next := seal.Config{Type: "shamir", SecretShares: shares, SecretThreshold: threshold}
	if err := next.Validate(); err != nil {
		return nil, logical.InvalidRequest("%v", err)
	}
	collector, err := shamir.NewUnsealer(cur.SecretThreshold)
	if err != nil {
		return nil, err
	}
	c.rekey = &rekeyAttempt{newConfig: next, collector: collector}
	return c.rekeyStatusLocked(cur), nil
}

// RekeyStatus reports the rekey in progress, if any.
func (c *Core) RekeyStatus(ctx context.Context) (*RekeyStatus, error) {
	_, cur, err := c.currentKeyConfig(ctx)
	if err != nil {
		return nil, err
	}
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	return c.rekeyStatusLocked(cur), nil
}

func (c *Core) rekeyStatusLocked(cur seal.Config) *RekeyStatus {
	s := &RekeyStatus{Required: cur.SecretThreshold}
	if c.rekey != nil {
		s.Started, s.Nonce = true, c.rekey.collector.Nonce()
		s.Shares, s.Threshold = c.rekey.newConfig.SecretShares, c.rekey.newConfig.SecretThreshold
		s.Progress = c.rekey.collector.Progress()
	}
	return s
}

// RekeyCancel abandons the rekey in progress.
func (c *Core) RekeyCancel() {
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	c.rekey = nil
}

// RekeyUpdate adds one share of the current key. With the last share the
// key is verified, new shares are made and stored atomically, and returned.
func (c *Core) RekeyUpdate(ctx context.Context, share []byte, nonce string) (*RekeyResult, error) {
	if c.Sealed() {
		return nil, logical.ErrSealed
	}
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	if c.rekey == nil {
		return nil, logical.InvalidRequest("no rekey in progress")
	}
	if subtle.ConstantTimeCompare([]byte(nonce), []byte(c.rekey.collector.Nonce())) != 1 {
		return nil, logical.InvalidRequest("nonce does not match the rekey in progress")
	}
	n := c.rekey.collector.Nonce()
	_, key, done, err := c.rekey.collector.Add(share)
	if err != nil {
		return nil, logical.InvalidRequest("%v", err)
	}
	if !done {
		return &RekeyResult{Nonce: n}, nil
	}
	attempt := c.rekey
	c.rekey = nil
	defer clear(key)
	keys, err := c.replaceKey(ctx, key, attempt.newConfig)
	if err != nil {
		return nil, err
	}
	c.logger.Info("core: rekeyed", "shares", attempt.newConfig.SecretShares, "threshold", attempt.newConfig.SecretThreshold)
	return &RekeyResult{Complete: true, Nonce: n, Keys: keys}, nil
}

// replaceKey verifies the combined current key and replaces it with a new
// one split under cfg, writing the new wrapped key and config in one
// transaction so a crash leaves either the old or the new key in force.
func (c *Core) replaceKey(ctx context.Context, current []byte, cfg seal.Config) ([][]byte, error) {
	rec, _, err := c.currentKeyConfig(ctx)
	if err != nil {
		return nil, err
	}
	var shares [][]byte
	var op storage.TxnOp
	if rec.Recovery == nil {
		rootKey, err := c.unwrapRootKey(ctx, current)
		if err != nil {
			return nil, err
		}
		defer clear(rootKey)
		var wrapped []byte
		if shares, wrapped, err = newShamirKey(rootKey, cfg); err != nil {
			return nil, err
		}
		op, rec.Barrier = putOp(rootKeyKey, wrapped), cfg
	} else {
		if err := c.verifyRecoveryKey(ctx, current); err != nil {
			return nil, err
		}
		if shares, op, err = c.newRecoveryKey(ctx, cfg); err != nil {
			return nil, err
		}
		rec.Recovery = &cfg
	}
	recJSON, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if err := c.physical.Transaction(ctx, []storage.TxnOp{op, putOp(sealConfigKey, recJSON)}); err != nil {
		return nil, fmt.Errorf("core: store new key: %w", err)
	}
	return shares, nil
}

func (c *Core) verifyRecoveryKey(ctx context.Context, candidate []byte) error {
	e, err := c.physical.Get(ctx, recoveryKeyKey)
	if err != nil {
		return fmt.Errorf("core: read recovery key: %w", err)
	}
	stored, err := c.autoSeal.Unwrap(ctx, e.Value)
	if err != nil {
		return fmt.Errorf("core: unwrap recovery key: %w", err)
	}
	defer clear(stored)
	if subtle.ConstantTimeCompare(stored, candidate) != 1 {
		return ErrBadUnsealKey
	}
	return nil
}

func (c *Core) newRecoveryKey(ctx context.Context, cfg seal.Config) ([][]byte, storage.TxnOp, error) {
	key, err := generateKey()
	if err != nil {
		return nil, storage.TxnOp{}, err
	}
	defer clear(key)
	shares, err := splitKey(key, cfg)
	if err != nil {
		return nil, storage.TxnOp{}, err
	}
	wrapped, err := c.autoSeal.Wrap(ctx, key)
	if err != nil {
		return nil, storage.TxnOp{}, err
	}
	return shares, putOp(recoveryKeyKey, wrapped), nil
}

// verifyOperatorKey checks a combined key (unseal or recovery) without
// changing anything.
func (c *Core) verifyOperatorKey(ctx context.Context, key []byte) error {
	rec, err := c.readSealRecord(ctx)
	if err != nil {
		return err
	}
	if rec.Recovery != nil {
		return c.verifyRecoveryKey(ctx, key)
	}
	rootKey, err := c.unwrapRootKey(ctx, key)
	if err != nil {
		return err
	}
	clear(rootKey)
	return nil
}
