package kv

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// TestDataCache checks that cached versions follow the stored bytes, keep
// numbers exact, and are handed out as deep copies.
func TestDataCache(t *testing.T) {
	ctx := context.Background()
	s := inmem.New()
	c := newDataCache()
	put := func(raw string) {
		t.Helper()
		if err := s.Put(ctx, &storage.Entry{Key: versionKey("k", 1), Value: []byte(raw)}); err != nil {
			t.Fatal(err)
		}
	}
	read := func() map[string]any {
		t.Helper()
		m, err := c.readVersion(ctx, s, "k", 1)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	tests := []struct {
		name   string
		raw    string // stored before the read; "" keeps what is there
		mutate bool   // change the result in place after checking it
		want   string
	}{
		{"first read", `{"a":"x","n":12345678901234567890,"l":[{"b":"y"}]}`, true, `{"a":"x","l":[{"b":"y"}],"n":12345678901234567890}`},
		{"hit is unaffected by the caller's changes", "", false, `{"a":"x","l":[{"b":"y"}],"n":12345678901234567890}`},
		{"changed bytes", `{"a":"z"}`, false, `{"a":"z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.raw != "" {
				put(tt.raw)
			}
			m := read()
			got, err := json.Marshal(m)
			if err != nil || string(got) != tt.want {
				t.Fatalf("read = %s, %v; want %s", got, err, tt.want)
			}
			if tt.mutate {
				m["a"] = "changed"
				m["l"].([]any)[0].(map[string]any)["b"] = "changed"
			}
		})
	}
	b := newVersioned(nil)
	b.data, b.meta = c, newMetaCache()
	b.Cleanup(ctx)
	if n := len(c.m); n != 0 {
		t.Errorf("Cleanup left %d cached versions", n)
	}
}
