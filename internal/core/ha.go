package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// HA is what the core needs from clustered storage (the raft backend): who
// leads, and a way to catch up with the leader before a read.
type HA interface {
	// NodeID names this node in the cluster.
	NodeID() string
	// IsLeader reports whether this node leads the cluster.
	IsLeader() bool
	// Leader returns the leader's node ID and cluster address ("" if none).
	Leader() (id, addr string)
	// ConsistentRead returns once this node has applied every write the
	// leader had acknowledged when it was called.
	ConsistentRead(ctx context.Context) error
	// LeadershipTransfer asks raft to hand leadership to another voter.
	LeadershipTransfer() error
	// CommitIndex and AppliedIndex are raft's indexes on this node.
	CommitIndex() uint64
	AppliedIndex() uint64
	// Term is the raft term this node is in. A leader's term changes only
	// when it loses leadership, so an active node whose term moved may
	// have applied another leader's writes.
	Term() uint64
}

// haRecheck is how often the HA loop checks the node's role even without a
// leadership event, which also retries a standby set-up that found the
// active node had not finished its own.
const haRecheck = time.Second

// haState is the core's part of clustering: whether this node may write,
// the pending cache invalidations, and the loop that moves the unsealed
// state between the active and the standby role.
type haState struct {
	ha HA
	// writable is true while this node leads the cluster; storage writes
	// are refused (storage.ErrReadOnly) otherwise.
	writable atomic.Bool
	wake     chan struct{}
	// rebuild asks the loop to rebuild the standby state from scratch (a
	// snapshot was restored under it).
	rebuild atomic.Bool
	// activeSince is when this node last became active (unix nanoseconds).
	activeSince atomic.Int64
	// autoUnseal is set while an auto-sealed node waits for its storage to
	// hold the root key (raft replaying its log after a crash, or a join
	// in progress); the HA loop keeps trying to unseal it.
	autoUnseal atomic.Bool

	invalMu      sync.Mutex
	invalPending []string
}

func newHAState(ha HA) *haState {
	return &haState{ha: ha, wake: make(chan struct{}, 1)}
}

func (h *haState) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// HAEnabled reports whether the core runs on clustered storage.
func (c *Core) HAEnabled() bool { return c.ha != nil }

// LeadershipChanged is called by the storage layer, in order, whenever the
// cluster's leader changes; self is true when this node leads.
func (c *Core) LeadershipChanged(self bool) {
	if c.ha == nil {
		return
	}
	c.ha.writable.Store(self)
	c.ha.poke()
}

// RunHA moves the unsealed state between the active and standby roles as
// leadership changes, until ctx ends. The server runs it in a goroutine.
func (c *Core) RunHA(ctx context.Context) {
	if c.ha == nil {
		return
	}
	t := time.NewTicker(haRecheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.ha.wake:
		case <-t.C:
		}
		c.retryAutoUnseal(ctx)
		c.reconcileRole(ctx)
	}
}

// retryAutoUnseal unseals an auto-sealed node whose first attempt found no
// root key in storage yet. An operator's seal stops the retries.
func (c *Core) retryAutoUnseal(ctx context.Context) {
	if c.autoSeal == nil || !c.ha.autoUnseal.Load() || !c.barrier.Sealed() {
		return
	}
	err := c.UnsealAuto(ctx)
	switch {
	case err == nil:
		c.ha.autoUnseal.Store(false)
	case errors.Is(err, logical.ErrNotInitialized):
	default:
		c.logger.Warn("core: auto unseal failed; retrying", "error", err)
	}
}

// activeRole reports whether an unsealed state built now is the active one.
func (c *Core) activeRole() bool { return c.ha == nil || c.ha.writable.Load() }

// reconcileRole rebuilds the unsealed state when it was built for the other
// role, when a standby set-up is still pending, or when an active state
// outlived its term (leadership lost and regained: another leader's writes
// may have been applied meanwhile).
func (c *Core) reconcileRole(ctx context.Context) {
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	if c.barrier.Sealed() {
		return
	}
	active := c.activeRole()
	rebuild := c.ha.rebuild.Swap(false)
	if rebuild {
		// A snapshot may have replaced the keyring (a restore, possibly of
		// another cluster's data): keep going only if it still opens.
		if err := c.barrier.ReloadKeyring(ctx); err != nil {
			c.logger.Warn("core: the replicated keyring no longer opens with this node's root key (a snapshot of another cluster was restored?); sealing: unseal with that cluster's keys", "error", err)
			if c.autoSeal != nil {
				c.ha.autoUnseal.Store(true)
			}
			c.sealLocked(ctx)
			return
		}
	}
	c.stateLock.RLock()
	st := c.unsealed
	c.stateLock.RUnlock()
	if st != nil && st.active == active && !rebuild && (!active || st.term == c.ha.ha.Term()) {
		return
	}
	c.stateLock.Lock()
	c.unsealed = nil
	c.stateLock.Unlock()
	if st != nil {
		st.stop(ctx)
	}
	if err := c.installState(ctx, active); err != nil {
		if errors.Is(err, storage.ErrReadOnly) {
			c.logger.Info("core: standby is waiting for the active node to finish setting up")
			return
		}
		c.logger.Error("core: building the unsealed state failed; retrying", "active", active, "error", err)
		return
	}
	if active {
		c.logger.Info("core: this node is now the active node")
	} else {
		c.logger.Info("core: this node is now a standby")
	}
}

// installState builds the unsealed state for a role and publishes it. The
// invalidations that arrived meanwhile are applied before any request sees
// the new state.
func (c *Core) installState(ctx context.Context, active bool) error {
	var term uint64
	if c.ha != nil {
		// The state about to be built is at least as new as every write
		// acknowledged so far: on a new leader this waits until it has
		// applied what its predecessors committed, so nothing it serves
		// (a read, or the read half of a read-modify-write) is older. A
		// standby carries on without (reads catch up per request), a
		// leader that cannot confirm its leadership does not become active.
		c.ha.rebuild.Store(false)
		term = c.ha.ha.Term()
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := c.ha.ha.ConsistentRead(rctx)
		cancel()
		if err != nil && active {
			return fmt.Errorf("core: catching up before becoming active: %w", err)
		}
		if err != nil {
			c.logger.Debug("core: standby set-up without catching up first", "error", err)
		}
	}
	st, err := c.setupUnsealed(ctx, active)
	if err != nil {
		return err
	}
	st.term = term
	if c.ha != nil && active {
		if err := c.becomeActive(ctx); err != nil {
			st.stop(ctx)
			return fmt.Errorf("core: cluster identity: %w", err)
		}
		if err := c.startAutopilot(ctx, st); err != nil {
			st.stop(ctx)
			return fmt.Errorf("core: autopilot: %w", err)
		}
	}
	c.stateLock.Lock()
	defer c.stateLock.Unlock()
	if c.ha != nil {
		keys := c.takeInvalidations()
		if !active {
			c.invalidateKeys(ctx, st, keys)
		}
		if active {
			c.ha.activeSince.Store(c.now().UnixNano())
		}
	}
	c.unsealed = st
	return nil
}

// Active reports whether this node serves writes itself: true without
// clustering, and on the cluster's active node.
func (c *Core) Active() bool {
	st, release, err := c.state()
	if err != nil {
		return false
	}
	defer release()
	return st.active
}

// Standby reports whether this node is an unsealed standby of a cluster.
func (c *Core) Standby() bool {
	st, release, err := c.state()
	if err != nil {
		return false
	}
	defer release()
	return !st.active
}

// requireActive refuses an operation that writes the seal's own records
// (rekey, generate-root) on a standby. The HTTP layer forwards them to the
// active node when the node has a cluster to forward through; when it
// cannot, the operator is told where the active node is.
func (c *Core) requireActive(ctx context.Context, op string) error {
	if !c.Standby() {
		return nil
	}
	if s := c.HAStatus(ctx); s.LeaderAPIAddr != "" {
		return logical.InvalidRequest("this node is a standby: run %s against the active node, %s", op, s.LeaderAPIAddr)
	}
	return logical.InvalidRequest("this node is a standby: run %s against the active node", op)
}

// HAStatus describes this node's place in the cluster for sys/leader,
// sys/health and sys/ha-status.
type HAStatus struct {
	Enabled           bool
	Active            bool
	NodeID            string
	LeaderID          string
	LeaderAPIAddr     string
	LeaderClusterAddr string
	ActiveSince       time.Time
	CommitIndex       uint64
	AppliedIndex      uint64
}

// HAStatus reports this node's role and who leads.
func (c *Core) HAStatus(ctx context.Context) HAStatus {
	if c.ha == nil {
		return HAStatus{Active: !c.Sealed()}
	}
	h := c.ha.ha
	s := HAStatus{Enabled: true, NodeID: h.NodeID(), Active: c.Active(),
		CommitIndex: h.CommitIndex(), AppliedIndex: h.AppliedIndex()}
	var addr string
	s.LeaderID, addr = h.Leader()
	if addr != "" {
		s.LeaderClusterAddr = "https://" + addr
	}
	if s.Active {
		s.ActiveSince = time.Unix(0, c.ha.activeSince.Load()).UTC()
		s.LeaderAPIAddr = c.apiAddr
	} else if s.LeaderID != "" && !c.barrier.Sealed() {
		if rec, err := c.nodeRecord(ctx, s.LeaderID); err == nil {
			s.LeaderAPIAddr = rec.APIAddr
		}
	}
	return s
}

// StepDown hands leadership to another node (sys/step-down).
func (c *Core) StepDown() error {
	if c.ha == nil {
		return logical.InvalidRequest("this server does not run in a cluster")
	}
	return c.ha.ha.LeadershipTransfer()
}

// standbyGuard refuses storage writes while this node does not lead, and
// notes in the request's context that a write was attempted, so a request
// that tried to write is handed to the active node even when the code
// that wrote swallowed the error.
type standbyGuard struct {
	storage.Backend
	ha *haState
}

// writeAttempt records, in a request's context, that a standby refused one
// of its writes.
type writeAttempt struct{ refused atomic.Bool }

type writeAttemptKey struct{}

func (g *standbyGuard) refuse(ctx context.Context) error {
	if g.ha.writable.Load() {
		return nil
	}
	if w, ok := ctx.Value(writeAttemptKey{}).(*writeAttempt); ok {
		w.refused.Store(true)
	}
	return storage.ErrReadOnly
}

func (g *standbyGuard) Put(ctx context.Context, e *storage.Entry) error {
	if err := g.refuse(ctx); err != nil {
		return err
	}
	return g.Backend.Put(ctx, e)
}

func (g *standbyGuard) Delete(ctx context.Context, key string) error {
	if err := g.refuse(ctx); err != nil {
		return err
	}
	return g.Backend.Delete(ctx, key)
}

func (g *standbyGuard) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	if err := g.refuse(ctx); err != nil {
		return err
	}
	return g.Backend.Transaction(ctx, ops)
}
