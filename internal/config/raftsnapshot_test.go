package config

import (
	"errors"
	"testing"
	"time"
)

func TestParseRaftSnapshot(t *testing.T) {
	const raft = "storage \"raft\" {\n  path = \"/d\"\n}\nlistener \"tcp\" { tls_disable = true }\n" // 4 lines
	c := mustParse(t, raft+"raft_snapshot {\n  interval = \"1h\"\n  path = \"/var/lib/coffer/snapshots\"\n}\n")
	want := RaftSnapshot{Interval: time.Hour, Path: "/var/lib/coffer/snapshots", Retain: DefaultRaftSnapshotRetain}
	if c.RaftSnapshot == nil || *c.RaftSnapshot != want {
		t.Fatalf("raft_snapshot = %+v, want %+v", c.RaftSnapshot, want)
	}
	if c := mustParse(t, raft); c.RaftSnapshot != nil {
		t.Fatalf("raft_snapshot without the block = %+v", c.RaftSnapshot)
	}
	for _, tt := range []struct{ name, src, want string }{
		{"no interval", raft + "raft_snapshot {\n  path = \"/s\"\n}",
			`c.hcl:5: raft_snapshot: interval: required: a positive duration such as "1h"`},
		{"bad interval", raft + "raft_snapshot {\n  path = \"/s\"\n  interval = \"often\"\n}",
			`c.hcl:7: raft_snapshot: interval: must be a duration such as "90s", "1h" or "7d"`},
		{"no path", raft + "raft_snapshot {\n  interval = \"1h\"\n}",
			`c.hcl:5: raft_snapshot: path: required: the directory snapshots are written to`},
		{"relative path", raft + "raft_snapshot {\n  interval = \"1h\"\n  path = \"snaps\"\n}",
			`c.hcl:7: raft_snapshot: path: must be an absolute path`},
		{"retain zero", raft + "raft_snapshot {\n  interval = \"1h\"\n  path = \"/s\"\n  retain = 0\n}",
			`c.hcl:8: raft_snapshot: retain: must be at least 1`},
		{"unknown key", raft + "raft_snapshot {\n  interval = \"1h\"\n  path = \"/s\"\n  keep = 3\n}",
			`c.hcl:8: raft_snapshot: keep: unknown key`},
		{"label", raft + "raft_snapshot \"x\" {}", `c.hcl:5: raft_snapshot: must be a block without a label: raft_snapshot { interval = "1h" ... }`},
		{"twice", raft + "raft_snapshot {\n  interval = \"1h\"\n  path = \"/s\"\n}\nraft_snapshot {}",
			`c.hcl:9: raft_snapshot: set more than once (first at line 5)`},
		{"not raft", "storage \"inmem\" {}\nlistener \"tcp\" { tls_disable = true }\nraft_snapshot {\n  interval = \"1h\"\n  path = \"/s\"\n}",
			`c.hcl:3: raft_snapshot: needs storage "raft" (snapshots are of raft storage)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.hcl", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse accepted:\n%s", tt.src)
			}
			if !errors.Is(err, ErrInvalid) || err.Error() != tt.want {
				t.Errorf("Parse error\n%s\nwant\n%s", err, tt.want)
			}
		})
	}
}
