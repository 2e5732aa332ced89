package core

import (
	"context"
	"fmt"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/version"
)

// haPaths serve sys/step-down and sys/ha-status.
func (c *Core) haPaths() []*logical.Path {
	return []*logical.Path{
		{Pattern: "step-down", Help: "make the active node give up leadership",
			Operations: ops(map[logical.Operation]logical.Handler{logical.UpdateOperation: c.stepDown})},
		{Pattern: "ha-status", Help: "the nodes of the cluster",
			Operations: ops(map[logical.Operation]logical.Handler{logical.ReadOperation: c.haNodes})},
	}
}

func (c *Core) stepDown(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if c.ha == nil {
		return nil, logical.InvalidRequest("this server does not run in a cluster; there is no other node to take over")
	}
	if err := c.ha.ha.LeadershipTransfer(); err != nil {
		return nil, logical.InvalidRequest("step-down failed: %v", err)
	}
	c.logger.Info("core: stepped down as the active node", "by", req.Caller.DisplayName)
	return nil, nil
}

func (c *Core) haNodes(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if c.ha == nil {
		return logical.DataResponse(map[string]any{"nodes": []any{}}), nil
	}
	rb, err := c.raftBackend()
	if err != nil {
		return nil, err
	}
	peers, err := rb.Peers()
	if err != nil {
		return nil, fmt.Errorf("core: raft configuration: %w", err)
	}
	nodes := make([]any, 0, len(peers))
	for _, p := range peers {
		n := map[string]any{"hostname": p.ID, "node_id": p.ID, "cluster_address": "https://" + p.Address,
			"active_node": p.Leader, "voter": p.Voter, "api_address": "", "version": version.VaultAPIVersion,
			"coffer_version": version.Version, "redundancy_zone": "", "upgrade_version": version.VaultAPIVersion}
		if rec, err := c.nodeRecord(ctx, p.ID); err == nil {
			n["api_address"] = rec.APIAddr
		}
		nodes = append(nodes, n)
	}
	return logical.DataResponse(map[string]any{"nodes": nodes}), nil
}
