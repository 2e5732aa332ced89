package core

import (
	"context"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// newSystemBackend builds the sys/ backend for one unsealed period. Its
// handlers run inside HandleRequest, which already holds the state lock, so
// they use st directly and never take the lock again.
func newSystemBackend(c *Core, st *unsealedState) logical.Backend {
	var paths []*logical.Path
	paths = append(paths, c.mountPaths(st)...)
	paths = append(paths, c.authPaths(st)...)
	paths = append(paths, c.remountPaths(st)...)
	paths = append(paths, c.policyPaths(st)...)
	paths = append(paths, c.passwordPolicyPaths()...)
	paths = append(paths, c.capabilityPaths(st)...)
	paths = append(paths, c.policyCheckPaths(st)...)
	paths = append(paths, c.wrappingPaths(st)...)
	paths = append(paths, c.keyPaths()...)
	paths = append(paths, c.internalPaths(st)...)
	paths = append(paths, c.auditPaths()...)
	paths = append(paths, st.leases.Paths()...)
	paths = append(paths, c.networkPaths(st)...)
	paths = append(paths, c.raftPaths(st)...)
	paths = append(paths, c.raftJoinPaths()...)
	paths = append(paths, c.haPaths()...)
	paths = append(paths, c.autopilotPaths()...)
	return logical.NewRouter(paths...)
}

func ops(m map[logical.Operation]logical.Handler) map[logical.Operation]logical.Handler { return m }

// keyPaths serve sys/rotate and sys/key-status.
func (c *Core) keyPaths() []*logical.Path {
	return []*logical.Path{
		{Pattern: "rotate", Help: "rotate the barrier encryption key",
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.UpdateOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					term, err := c.barrier.Rotate(ctx)
					if err != nil {
						return nil, err
					}
					c.logger.Info("core: barrier key rotated", "term", term)
					return &logical.Response{NoContent: true}, nil
				}})},
		{Pattern: "key-status", Help: "the barrier key's term and use",
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					ks := c.barrier.KeyStatus()
					return logical.DataResponse(map[string]any{
						"term":         ks.Term,
						"install_time": ks.InstallTime.UTC().Format(time.RFC3339Nano),
						"encryptions":  ks.Encryptions,
					}), nil
				}})},
	}
}
