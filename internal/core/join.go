package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cofferdev/coffer/internal/cluster"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/seal"
	"github.com/cofferdev/coffer/internal/seal/shamir"
	"github.com/cofferdev/coffer/internal/storage/raft"
)

// joinCatchUpTimeout bounds how long a node that joined waits for raft to
// give it the cluster's keyring before it unseals.
const joinCatchUpTimeout = 2 * time.Minute

// joinedSealRecord is what a leader hands a joining node inside the
// challenge response's seal_record: the seal configuration and the root key
// as wrapped by the unseal key (or the auto seal).
type joinedSealRecord struct {
	Config     json.RawMessage `json:"config"`
	WrappedKey []byte          `json:"wrapped_root_key"`
}

// joinAttempt is a join waiting for the root key (Shamir shares).
type joinAttempt struct {
	leader    cluster.Leader
	challenge *cluster.ChallengeResponse
	record    sealRecord
	wrapped   []byte
	unsealer  *shamir.Unsealer
}

// ErrJoinPending is returned by Join with a Shamir seal: the join finishes
// when enough unseal-key shares have been entered on this node.
var ErrJoinPending = errors.New("core: join pending; unseal this node with the cluster's unseal keys")

// CanJoin reports whether this node may join a cluster: clustered storage
// that has never been bootstrapped or joined.
func (c *Core) CanJoin() bool {
	rb, err := c.raftBackend()
	if err != nil || c.ha == nil {
		return false
	}
	peers, err := rb.Peers()
	return err == nil && len(peers) == 0
}

// Join starts joining the cluster that leader leads: it fetches a
// challenge and, with an auto seal, answers it at once and unseals. With
// Shamir it returns ErrJoinPending and Unseal finishes the join.
func (c *Core) Join(ctx context.Context, leader cluster.Leader) error {
	rb, err := c.raftBackend()
	if err != nil {
		return err
	}
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	if !c.CanJoin() {
		return logical.InvalidRequest("this node is already part of a cluster")
	}
	ch, err := cluster.FetchChallenge(ctx, leader, rb.NodeID())
	if err != nil {
		return err
	}
	var rec joinedSealRecord
	if err := json.Unmarshal(ch.SealRecord, &rec); err != nil {
		return fmt.Errorf("core: join: the leader's seal record does not parse: %w", err)
	}
	var sr sealRecord
	if err := json.Unmarshal(rec.Config, &sr); err != nil {
		return fmt.Errorf("core: join: the leader's seal configuration does not parse: %w", err)
	}
	j := &joinAttempt{leader: leader, challenge: ch, record: sr, wrapped: rec.WrappedKey}
	if c.autoSeal == nil {
		if j.unsealer, err = shamir.NewUnsealer(sr.Barrier.SecretThreshold); err != nil {
			return err
		}
		c.join = j
		return ErrJoinPending
	}
	rootKey, err := c.autoSeal.Unwrap(ctx, rec.WrappedKey)
	if err != nil {
		return fmt.Errorf("core: join: the %s seal could not unwrap the cluster's root key: %w", c.autoSeal.Type(), err)
	}
	defer clear(rootKey)
	return c.finishJoin(ctx, j, rootKey)
}

// JoinPending reports whether a join waits for unseal-key shares, and the
// threshold it needs.
func (c *Core) JoinPending() (pending bool, threshold, progress int) {
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	if c.join == nil || c.join.unsealer == nil {
		return false, 0, 0
	}
	return true, c.join.record.Barrier.SecretThreshold, c.join.unsealer.Progress()
}

// unsealJoin adds a share to a pending join (sealLock held).
func (c *Core) unsealJoin(ctx context.Context, share []byte) error {
	j := c.join
	_, key, done, err := j.unsealer.Add(share)
	if err != nil {
		return logical.InvalidRequest("%v", err)
	}
	if !done {
		return nil
	}
	j.unsealer, _ = shamir.NewUnsealer(j.record.Barrier.SecretThreshold)
	defer clear(key)
	rootKey, err := seal.UnwrapWithKey(key, j.wrapped, []byte(rootKeyKey))
	if err != nil {
		return ErrBadUnsealKey
	}
	defer clear(rootKey)
	return c.finishJoin(ctx, j, rootKey)
}

// finishJoin answers the challenge with the root key, installs the node
// certificate the leader signed, waits until raft has replicated the
// keyring here, and unseals as a standby (sealLock held).
func (c *Core) finishJoin(ctx context.Context, j *joinAttempt, rootKey []byte) error {
	rb, err := c.raftBackend()
	if err != nil {
		return err
	}
	answer, err := cluster.OpenChallenge(j.challenge.Challenge, rootKey, rb.NodeID())
	if err != nil {
		return ErrBadUnsealKey
	}
	csr, keyPEM, err := cluster.NewCSR(rb.NodeID())
	if err != nil {
		return err
	}
	resp, err := cluster.SendAnswer(ctx, j.leader, cluster.AnswerRequest{
		ServerID: rb.NodeID(), Answer: answer, ClusterAddr: rb.LocalAddr(), CSR: csr, APIAddr: c.apiAddr,
		NonVoter: j.leader.NonVoter,
	})
	if err != nil {
		return err
	}
	files := cluster.NodeFiles{CACertPEM: resp.CACertPEM, CertPEM: resp.NodeCertPEM, KeyPEM: keyPEM}
	if err := c.installIdentity(rb, files); err != nil {
		return err
	}
	c.join = nil
	c.logger.Info("core: joined the cluster; waiting for the keyring to replicate", "leader", j.leader)
	wctx, cancel := context.WithTimeout(ctx, joinCatchUpTimeout)
	defer cancel()
	for {
		ok, err := c.barrier.Initialized(wctx)
		if err == nil && ok {
			break
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("core: joined, but the cluster's data did not arrive within %s; unseal again once it has", joinCatchUpTimeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return c.unsealWithRootKey(ctx, rootKey)
}

// installIdentity keeps the node's cluster certificate on disk (so raft can
// run before the next unseal) and hands it to the raft transport.
func (c *Core) installIdentity(rb *raft.Backend, files cluster.NodeFiles) error {
	id, err := raft.IdentityFromPEM(files.CACertPEM, files.CertPEM, files.KeyPEM)
	if err != nil {
		return fmt.Errorf("core: cluster identity: %w", err)
	}
	if c.clusterDir != "" {
		if err := cluster.SaveNodeFiles(c.clusterDir, files); err != nil {
			return err
		}
	}
	return rb.SetIdentity(id)
}

// JoinLoop tries the leaders targets names, in turn and with back-off,
// until one hands out a challenge (with Shamir the join then waits for
// unseal-key shares) or this node is part of a cluster, or ctx ends.
func (c *Core) JoinLoop(ctx context.Context, targets func(context.Context) ([]cluster.Leader, error)) error {
	return cluster.RetryLoop(ctx, targets, func(ctx context.Context, l cluster.Leader) error {
		if !c.CanJoin() {
			return nil
		}
		c.sealLock.Lock()
		pending := c.join != nil
		c.sealLock.Unlock()
		if pending {
			return nil
		}
		err := c.Join(ctx, l)
		if errors.Is(err, ErrJoinPending) {
			c.logger.Info("core: join pending: unseal this node with the cluster's unseal keys", "leader", l)
			return nil
		}
		return err
	}, c.logger)
}

// bootstrapForInit makes a raft node that has no cluster yet the one
// member of a new cluster before sys/init writes to it, and waits until it
// leads (sealLock held).
func (c *Core) bootstrapForInit(ctx context.Context) error {
	if !c.CanJoin() {
		return nil
	}
	rb, err := c.raftBackend()
	if err != nil {
		return err
	}
	if err := rb.Bootstrap(); err != nil {
		return fmt.Errorf("core: bootstrap the raft cluster: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for !c.ha.writable.Load() {
		select {
		case <-wctx.Done():
			return errors.New("core: the new raft cluster elected no leader in time")
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
