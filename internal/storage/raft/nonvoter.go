package raft

import hraft "github.com/hashicorp/raft"

// AddNonvoter adds a node that receives the log but does not vote (leader
// only). Unlike AddVoter it does not need the new node to acknowledge the
// change, so a node can be added before it is reachable; AddVoter later
// promotes it.
func (b *Backend) AddNonvoter(id, addr string) error {
	err := b.raft.AddNonvoter(hraft.ServerID(id), hraft.ServerAddress(addr), 0, b.timeout).Error()
	return b.leaderErr(err)
}

// Raft is the node's hashicorp/raft instance, for autopilot, which drives
// membership through raft's own API. Other callers use Backend's methods.
func (b *Backend) Raft() *hraft.Raft { return b.raft }
