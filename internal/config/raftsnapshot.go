package config

import (
	"path/filepath"
	"time"

	"github.com/hashicorp/hcl/hcl/ast"
)

// RaftSnapshot is the top-level `raft_snapshot` block: scheduled snapshots
// of raft storage, written every Interval into Path, keeping the newest
// Retain files.
type RaftSnapshot struct {
	Interval time.Duration
	Path     string
	Retain   int64
}

// DefaultRaftSnapshotRetain is the number of scheduled snapshots kept when
// retain is not set.
const DefaultRaftSnapshotRetain = 24

// raftSnapshot decodes the unlabeled raft_snapshot block.
func (d *decoder) raftSnapshot(item *ast.ObjectItem, seen map[string]int) {
	const name = "raft_snapshot"
	line := itemLine(item)
	ot, ok := item.Val.(*ast.ObjectType)
	if len(item.Keys) != 1 || !ok {
		d.rep.failAt(line, "", name, `must be a block without a label: raft_snapshot { interval = "1h" ... }`)
		return
	}
	if d.repeated(scope{}, name, line, seen) {
		return
	}
	d.rep.at(name, line)
	rs := &RaftSnapshot{Retain: DefaultRaftSnapshotRetain}
	fields := map[string]setter{
		"interval": durationField(&rs.Interval),
		"path":     stringField(&rs.Path),
		"retain":   intField(&rs.Retain),
	}
	list := ot.List
	if list == nil {
		list = &ast.ObjectList{}
	}
	d.body(scope{key: name, block: name}, list, fields, nil, nil)
	d.c.RaftSnapshot = rs
}

// validateRaftSnapshot checks the raft_snapshot block.
func (c *Config) validateRaftSnapshot(rep *report) {
	rs := c.RaftSnapshot
	if rs == nil {
		return
	}
	const block = "raft_snapshot"
	if c.Storage.Type != "raft" {
		rep.fail(block, block, "", `needs storage "raft" (snapshots are of raft storage)`)
	}
	if rs.Interval <= 0 {
		rep.fail(block+".interval", block, "interval", `required: a positive duration such as "1h"`)
	}
	if rs.Path == "" {
		rep.fail(block+".path", block, "path", "required: the directory snapshots are written to")
	} else if !filepath.IsAbs(rs.Path) {
		rep.fail(block+".path", block, "path", "must be an absolute path")
	}
	if rs.Retain < 1 {
		rep.fail(block+".retain", block, "retain", "must be at least 1")
	}
}
