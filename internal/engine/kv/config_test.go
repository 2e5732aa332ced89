package kv

import (
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		writes  []map[string]any
		want    string
		wantErr bool
	}{
		{"defaults", nil, `{"cas_required":false,"delete_version_after":"0s","max_versions":0}`, false},
		{"all fields", []map[string]any{{"max_versions": 5, "cas_required": true, "delete_version_after": "3h25m19s"}},
			`{"cas_required":true,"delete_version_after":"3h25m19s","max_versions":5}`, false},
		{"seconds as number", []map[string]any{{"delete_version_after": 90}},
			`{"cas_required":false,"delete_version_after":"1m30s","max_versions":0}`, false},
		{"partial update keeps others", []map[string]any{{"max_versions": 5, "cas_required": true}, {"max_versions": 7}},
			`{"cas_required":true,"delete_version_after":"0s","max_versions":7}`, false},
		{"negative disables", []map[string]any{{"delete_version_after": "-3h"}},
			`{"cas_required":false,"delete_version_after":"-1s","max_versions":0}`, false},
		{"0s clears", []map[string]any{{"delete_version_after": "1h"}, {"delete_version_after": "0s"}},
			`{"cas_required":false,"delete_version_after":"0s","max_versions":0}`, false},
		{"sub-second truncates", []map[string]any{{"delete_version_after": "1500ms"}},
			`{"cas_required":false,"delete_version_after":"1s","max_versions":0}`, false},
		{"bad duration", []map[string]any{{"delete_version_after": "soon"}}, "", true},
		{"duration object", []map[string]any{{"delete_version_after": map[string]any{}}}, "", true},
		{"negative max_versions", []map[string]any{{"max_versions": -1}}, "", true},
		{"max_versions not a number", []map[string]any{{"max_versions": "many"}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			var err error
			for _, w := range tt.writes {
				var resp *logical.Response
				resp, err = e.do(logical.UpdateOperation, "config", w)
				if err == nil {
					assertNoContent(t, resp)
				}
			}
			if tt.wantErr {
				assertKind(t, err, logical.KindInvalidRequest)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, e.must(logical.ReadOperation, "config", nil).Data, tt.want)
		})
	}
}

func TestInvalidV2Paths(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"foo", "data", "data/", "secret/foo"} {
		t.Run(p, func(t *testing.T) {
			_, err := e.do(logical.ReadOperation, p, nil)
			assertKind(t, err, logical.KindUnsupportedPath)
		})
	}
	_, err := e.do(logical.DeleteOperation, "config", nil)
	assertKind(t, err, logical.KindUnsupportedOperation)
}
