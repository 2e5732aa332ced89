package core

import (
	"context"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/autopilot"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage/raft"
	"github.com/cofferdev/coffer/internal/version"
)

// pilot runs autopilot on the active node of a raft cluster: dead-server
// cleanup and the promotion of joined non-voters once they are stable.
type pilot struct {
	mgr *autopilot.Manager
	mu  sync.RWMutex
	cfg autopilot.Config
}

func newPilot(c *Core, rb *raft.Backend) *pilot {
	p := &pilot{cfg: autopilot.DefaultConfig()}
	p.mgr = autopilot.New(autopilot.Options{
		Raft: rb.Raft(), Logger: c.logger.With("component", "autopilot"), Version: version.Version,
		Config: p.config,
		NonVoter: func(id string) bool {
			rec, err := c.nodeRecord(context.Background(), id)
			return err == nil && rec.NonVoter
		},
		Stats: func(ctx context.Context, id, addr string) (autopilot.NodeStats, error) {
			s, err := rb.FetchStats(ctx, addr)
			if err != nil {
				return autopilot.NodeStats{}, err
			}
			return autopilot.NodeStats{LastContact: time.Duration(s.LastContactMs) * time.Millisecond,
				LastTerm: s.LastTerm, LastIndex: s.LastIndex,
				Healthy: s.State != "Shutdown" && s.LastContactMs >= 0}, nil
		},
	})
	return p
}

func (p *pilot) config() autopilot.Config {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.cfg
}

// startAutopilot loads the stored configuration and starts autopilot; the
// node has just become active.
func (c *Core) startAutopilot(ctx context.Context, st *unsealedState) error {
	if c.pilot == nil {
		return nil
	}
	cfg, err := autopilot.LoadConfig(ctx, c.barrier)
	if err != nil {
		return err
	}
	c.pilot.mu.Lock()
	c.pilot.cfg = cfg
	c.pilot.mu.Unlock()
	c.pilot.mgr.Start(context.WithoutCancel(ctx))
	st.onStop = append(st.onStop, c.pilot.mgr.Stop)
	return nil
}

// autopilotPaths serve sys/storage/raft/autopilot/state and configuration.
// Only the active node runs autopilot, so standbys hand them over.
func (c *Core) autopilotPaths() []*logical.Path {
	return []*logical.Path{
		{Pattern: "storage/raft/autopilot/state", Help: "autopilot's view of the cluster's health",
			Standby:    logical.StandbyForward,
			Operations: ops(map[logical.Operation]logical.Handler{logical.ReadOperation: c.autopilotState})},
		{Pattern: "storage/raft/autopilot/configuration", Help: "autopilot's configuration",
			Standby: logical.StandbyForward,
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ReadOperation:   c.autopilotConfig,
				logical.UpdateOperation: c.autopilotSetConfig,
			})},
	}
}

func (c *Core) autopilotState(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if c.pilot == nil {
		return nil, errRaftNotInUse
	}
	return logical.DataResponse(c.pilot.mgr.State().Map()), nil
}

func (c *Core) autopilotConfig(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if c.pilot == nil {
		return nil, errRaftNotInUse
	}
	return logical.DataResponse(c.pilot.config().Map()), nil
}

func (c *Core) autopilotSetConfig(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if c.pilot == nil {
		return nil, errRaftNotInUse
	}
	cfg, err := autopilot.ParseConfig(c.pilot.config(), req.Data)
	if err != nil {
		return nil, err
	}
	if err := autopilot.SaveConfig(ctx, c.barrier, cfg); err != nil {
		return nil, err
	}
	c.pilot.mu.Lock()
	c.pilot.cfg = cfg
	c.pilot.mu.Unlock()
	return nil, nil
}
