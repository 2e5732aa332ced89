package kv

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// state summarises each version of key as seen by a data read: "ok",
// "deleted", "destroyed" or "missing".
func (e *env) state(key string, n int) string {
	e.t.Helper()
	resp := e.must(logical.ReadOperation, "data/"+key, map[string]any{"version": n})
	if resp == nil {
		return "missing"
	}
	md := resp.Data["metadata"].(map[string]any)
	switch {
	case md["destroyed"] == true && resp.NotFound:
		return "destroyed"
	case resp.Data["data"] == nil && resp.NotFound:
		return "deleted"
	case resp.Data["data"] == nil || resp.NotFound:
		e.t.Fatalf("inconsistent read of version %d: %+v", n, resp)
	}
	return "ok"
}

func (e *env) states(key string, upTo int) string {
	e.t.Helper()
	var out []string
	for n := 1; n <= upTo; n++ {
		out = append(out, e.state(key, n))
	}
	return strings.Join(out, ",")
}

func TestDeleteUndeleteDestroy(t *testing.T) {
	tests := []struct {
		name  string
		steps []struct {
			path     string
			versions any
		}
		want string
	}{
		{"delete two as strings", steps("delete", []any{"1", "3"}), "deleted,ok,deleted"},
		{"delete as comma list", steps("delete", "2,3"), "ok,deleted,deleted"},
		{"delete then undelete", steps("delete", []any{json.Number("1"), json.Number("2")}, "undelete", []any{json.Number("2")}), "deleted,ok,ok"},
		{"destroy", steps("destroy", []any{2}), "ok,destroyed,ok"},
		{"undelete cannot revive destroyed", steps("destroy", []any{1}, "undelete", []any{1}), "destroyed,ok,ok"},
		{"destroy a deleted version", steps("delete", []any{1}, "destroy", []any{1}), "destroyed,ok,ok"},
		{"unknown versions skipped", steps("delete", []any{0, 9, -1}), "ok,ok,ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			for i := range 3 {
				e.put("k", map[string]any{"v": fmt.Sprint(i + 1)})
			}
			for _, s := range tt.steps {
				assertNoContent(t, e.must(logical.UpdateOperation, s.path+"/k", map[string]any{"versions": s.versions}))
			}
			if got := e.states("k", 3); got != tt.want {
				t.Fatalf("states = %s, want %s", got, tt.want)
			}
			for n, st := range strings.Split(tt.want, ",") {
				stored := slices.Contains(e.keys("versions/"), versionKey("k", uint64(n+1)))
				if stored == (st == "destroyed") {
					t.Fatalf("version %d is %s but stored=%v", n+1, st, stored)
				}
			}
		})
	}
}

// steps builds a list of (path, versions) steps from alternating arguments.
func steps(args ...any) []struct {
	path     string
	versions any
} {
	var out []struct {
		path     string
		versions any
	}
	for i := 0; i < len(args); i += 2 {
		out = append(out, struct {
			path     string
			versions any
		}{args[i].(string), args[i+1]})
	}
	return out
}

func TestVersionListErrors(t *testing.T) {
	e := newEnv(t)
	e.put("k", map[string]any{"a": "1"})
	for _, path := range []string{"delete/k", "undelete/k", "destroy/k"} {
		for name, body := range map[string]map[string]any{
			"missing":  {},
			"empty":    {"versions": []any{}},
			"not ints": {"versions": []any{"x"}},
			"fraction": {"versions": []any{1.5}},
		} {
			t.Run(path+"/"+name, func(t *testing.T) {
				_, err := e.do(logical.UpdateOperation, path, body)
				assertKind(t, err, logical.KindInvalidRequest)
			})
		}
	}
	// Versions of an absent key: nothing to do, no error.
	for _, path := range []string{"delete/absent", "undelete/absent", "destroy/absent"} {
		assertNoContent(t, e.must(logical.UpdateOperation, path, map[string]any{"versions": []any{1}}))
	}
	if e.state("k", 1) != "ok" {
		t.Fatal("failed requests changed version 1")
	}
}

func TestMaxVersionsPruning(t *testing.T) {
	tests := []struct {
		name       string
		mountMax   int
		keyMax     int
		writes     int
		wantStates string
		wantOldest uint64
	}{
		{"default keeps 10", 0, 0, 12, "missing,missing,ok,ok,ok,ok,ok,ok,ok,ok,ok,ok", 3},
		{"mount max 3", 3, 0, 5, "missing,missing,ok,ok,ok", 3},
		{"under the limit", 3, 0, 2, "ok,ok", 0},
		{"at the limit", 3, 0, 3, "ok,ok,ok", 1},
		{"key max 2", 0, 2, 4, "missing,missing,ok,ok", 3},
		{"larger of key and mount wins", 2, 4, 5, "missing,ok,ok,ok,ok", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.mountMax > 0 {
				e.must(logical.UpdateOperation, "config", map[string]any{"max_versions": tt.mountMax})
			}
			if tt.keyMax > 0 {
				e.must(logical.UpdateOperation, "metadata/k", map[string]any{"max_versions": tt.keyMax})
			}
			for i := range tt.writes {
				e.put("k", map[string]any{"i": fmt.Sprint(i)})
			}
			if got := e.states("k", tt.writes); got != tt.wantStates {
				t.Fatalf("states = %s, want %s", got, tt.wantStates)
			}
			meta := e.must(logical.ReadOperation, "metadata/k", nil).Data
			if meta["oldest_version"] != tt.wantOldest {
				t.Fatalf("oldest_version = %v, want %d", meta["oldest_version"], tt.wantOldest)
			}
			kept := strings.Count(tt.wantStates, "ok")
			if n := len(meta["versions"].(map[string]any)); n != kept {
				t.Fatalf("metadata lists %d versions, want %d", n, kept)
			}
			if n := len(e.keys("versions/")); n != kept {
				t.Fatalf("storage holds %d versions, want %d", n, kept)
			}
		})
	}
}

func TestDeleteVersionAfter(t *testing.T) {
	tests := []struct {
		name      string
		mount     any
		key       string
		advance   time.Duration
		wantState string
	}{
		{"mount setting, before", "1h", "", 59 * time.Minute, "ok"},
		{"mount setting, after", "1h", "", time.Hour, "deleted"},
		{"key setting", nil, "30m", 31 * time.Minute, "deleted"},
		{"smaller of mount and key, key", "2h", "30m", 31 * time.Minute, "deleted"},
		{"smaller of mount and key, mount", "20m", "2h", 21 * time.Minute, "deleted"},
		{"mount disabled ignores key", "-1s", "30m", 48 * time.Hour, "ok"},
		{"mount disabled as number", json.Number("-5"), "30m", 48 * time.Hour, "ok"},
		{"mount cleared with 0s", "0s", "", 48 * time.Hour, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.mount != nil {
				e.must(logical.UpdateOperation, "config", map[string]any{"delete_version_after": tt.mount})
			}
			if tt.key != "" {
				e.must(logical.UpdateOperation, "metadata/k", map[string]any{"delete_version_after": tt.key})
			}
			e.put("k", map[string]any{"a": "1"})
			e.clock.Advance(tt.advance)
			if got := e.state("k", 1); got != tt.wantState {
				t.Fatalf("state = %s, want %s", got, tt.wantState)
			}
		})
	}
}

func TestUndeleteRestartsDeleteVersionAfter(t *testing.T) {
	e := newEnv(t)
	e.must(logical.UpdateOperation, "config", map[string]any{"delete_version_after": "1h"})
	e.put("k", map[string]any{"a": "1"})
	e.clock.Advance(2 * time.Hour)
	if e.state("k", 1) != "deleted" {
		t.Fatal("version not deleted after delete_version_after")
	}
	e.must(logical.UpdateOperation, "undelete/k", map[string]any{"versions": []any{1}})
	if e.state("k", 1) != "ok" {
		t.Fatal("undelete did not restore the version")
	}
	resp := e.must(logical.ReadOperation, "data/k", nil)
	if got := resp.Data["metadata"].(map[string]any)["deletion_time"]; got != "2024-05-06T10:08:09.123456789Z" {
		t.Fatalf("deletion_time = %v, want now+1h", got)
	}
	e.clock.Advance(time.Hour)
	if e.state("k", 1) != "deleted" {
		t.Fatal("undeleted version did not expire again")
	}
}
