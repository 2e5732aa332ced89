package core

import (
	"context"
	"errors"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// handleStandby serves a request on a standby node: reads (and the paths
// that choose StandbyLocal) run here on the node's own state, after
// catching up with the leader unless the client accepted a stale read;
// everything else, and anything that turns out to write, is answered with
// logical.ErrForward so the HTTP layer hands it to the active node. No
// response data of an attempt that tried to write is ever returned.
func (c *Core) handleStandby(ctx context.Context, req *logical.Request) (*logical.Response, error) {
	st, release, err := c.state()
	if err != nil {
		return nil, err
	}
	mode := st.standbyMode(req)
	release()
	read := isRead(req.Operation)
	if mode == logical.StandbyForward || (!read && mode != logical.StandbyLocal) {
		return nil, logical.ErrForward
	}
	if !req.StaleOK {
		// Whatever is served here (reads, and logins or cryptography on
		// StandbyLocal paths) sees every write acknowledged before it began.
		// Outside the state lock: waiting for the log to apply must never
		// hold up a role change (which takes the lock for writing).
		if err := c.ha.ha.ConsistentRead(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, logical.ErrForward
		}
	}
	wa := &writeAttempt{}
	ctx = context.WithValue(ctx, writeAttemptKey{}, wa)
	st, release, err = c.state()
	if err != nil {
		return nil, err
	}
	defer release()
	resp, err := c.handle(ctx, st, req)
	if !st.active && (wa.refused.Load() || errors.Is(err, storage.ErrReadOnly)) {
		return nil, logical.ErrForward
	}
	return resp, err
}

// standbyMode asks the backend that would serve req how a standby treats
// it; StandbyDefault when no mount matches or the backend does not say.
func (st *unsealedState) standbyMode(req *logical.Request) logical.StandbyMode {
	m := st.mounts.route(req.Path)
	if m == nil {
		return logical.StandbyDefault
	}
	sp, ok := m.backend.(logical.StandbyPather)
	if !ok {
		return logical.StandbyDefault
	}
	rel := strings.TrimPrefix(req.Path, m.Path)
	if req.Path+"/" == m.Path {
		rel = ""
	}
	return sp.StandbyMode(&logical.Request{Operation: req.Operation, Path: rel, Data: req.Data})
}
