package logical

import (
	"maps"
	"testing"
)

func TestRouterMatch(t *testing.T) {
	noop := map[Operation]Handler{ReadOperation: nil}
	paths := []*Path{
		{Pattern: "config", Operations: noop},
		{Pattern: "keys/?", Operations: noop},
		{Pattern: "data/(?P<path>.+)", Operations: noop},
		{Pattern: "metadata/?(?P<path>.*)", Operations: noop},
		{Pattern: "(?i)upper", Operations: noop},
		{Pattern: "(a|b)/(?P<name>\\w+)", Operations: noop},
	}
	r := NewRouter(paths...)
	tests := []struct {
		path    string
		data    map[string]any
		want    int // index into paths, -1 for no match
		wantRaw map[string]any
	}{
		{"config", nil, 0, nil},
		{"config", map[string]any{"x": 1}, 0, map[string]any{"x": 1}},
		{"configs", nil, -1, nil},
		{"confi", nil, -1, nil},
		{"keys", nil, 1, nil},
		{"keys/", nil, 1, nil},
		{"keys//", nil, -1, nil},
		{"data/a/b", map[string]any{"path": "body", "v": "1"}, 2, map[string]any{"path": "a/b", "v": "1"}},
		{"data/", nil, -1, nil},
		{"metadata", nil, 3, map[string]any{"path": ""}},
		{"metadata/x", nil, 3, map[string]any{"path": "x"}},
		{"UPPER", nil, 4, nil},
		{"b/n1", nil, 5, map[string]any{"name": "n1"}},
		{"c/n1", nil, -1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			data := maps.Clone(tc.data)
			p, d := r.match(&Request{Path: tc.path, Data: data})
			if tc.want < 0 {
				if p != nil {
					t.Fatalf("matched %q, want no match", p.Pattern)
				}
				return
			}
			if p != paths[tc.want] {
				t.Fatalf("matched %v, want %q", p, paths[tc.want].Pattern)
			}
			if len(d.Raw) != len(tc.wantRaw) || !maps.EqualFunc(d.Raw, tc.wantRaw, func(a, b any) bool { return a == b }) {
				t.Errorf("raw %v, want %v", d.Raw, tc.wantRaw)
			}
			if len(tc.data) > 0 && !maps.EqualFunc(data, tc.data, func(a, b any) bool { return a == b }) {
				t.Errorf("request data changed to %v", data)
			}
		})
	}
}

func TestRouterStandbyMode(t *testing.T) {
	h := map[Operation]Handler{ReadOperation: nil}
	plain := NewRouter(&Path{Pattern: "data/.+", Operations: h}, &Path{Pattern: "config", Operations: h})
	mixed := NewRouter(
		&Path{Pattern: "creds/.+", Operations: h, Standby: StandbyForward},
		&Path{Pattern: "login", Operations: h, Unauthenticated: true},
		&Path{Pattern: "encrypt/.+", Operations: h, Standby: StandbyLocal},
		&Path{Pattern: "data/.+", Operations: h},
	)
	tests := []struct {
		r    *Router
		path string
		want StandbyMode
	}{
		{plain, "data/x", StandbyDefault},
		{plain, "nowhere", StandbyDefault},
		{mixed, "creds/app", StandbyForward},
		{mixed, "login", StandbyLocal},
		{mixed, "encrypt/k", StandbyLocal},
		{mixed, "data/x", StandbyDefault},
		{mixed, "nowhere", StandbyDefault},
	}
	for _, tt := range tests {
		if got := tt.r.StandbyMode(&Request{Operation: ReadOperation, Path: tt.path}); got != tt.want {
			t.Errorf("StandbyMode(%s) = %v, want %v", tt.path, got, tt.want)
		}
	}
}
