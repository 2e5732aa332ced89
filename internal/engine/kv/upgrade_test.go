package kv

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// TestUpgradeV1 writes secrets through KV v1, upgrades its storage, and
// reads them back through KV v2: every secret is version 1 with the same
// data, even at paths that look like KV v2's own keys.
func TestUpgradeV1(t *testing.T) {
	ctx := context.Background()
	v1, from := newV1Env(t)
	secrets := map[string]map[string]any{
		"app/db":          {"user": "u", "password": "p"},
		"app/deep/er/key": {"n": json.Number("12345678901234567890")},
		"config":          {"looks": "like the v2 config key"},
		"metadata/x":      {"looks": "like v2 metadata"},
		"versions/y/1":    {"looks": "like a v2 version"},
		"top":             {"a": []any{"b", json.Number("1")}},
	}
	for p, data := range secrets {
		if _, err := v1Do(v1, from, logical.UpdateOperation, p, data); err != nil {
			t.Fatalf("v1 write %s: %v", p, err)
		}
	}
	to := inmem.New()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var calls []int
	n, err := UpgradeV1(ctx, from, to, now, func(i int) { calls = append(calls, i) })
	if err != nil || n != len(secrets) || len(calls) != len(secrets) || calls[len(calls)-1] != n {
		t.Fatalf("UpgradeV1 = %d, %v (progress %v); want %d", n, err, calls, len(secrets))
	}
	v2 := newVersioned(func() time.Time { return now.Add(time.Hour) })
	do := func(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
		return v2.HandleRequest(ctx, &logical.Request{Operation: op, Path: path, Data: data, Storage: to})
	}
	for p, want := range secrets {
		resp, err := do(logical.ReadOperation, "data/"+p, nil)
		if err != nil || resp == nil {
			t.Fatalf("v2 read %s: %v, %v", p, resp, err)
		}
		got, _ := json.Marshal(resp.Data["data"])
		wantJSON, _ := json.Marshal(want)
		meta := resp.Data["metadata"].(map[string]any)
		if string(got) != string(wantJSON) || meta["version"] != uint64(1) && meta["version"] != 1 {
			t.Fatalf("v2 read %s = %s (metadata %v); want %s as version 1", p, got, meta, wantJSON)
		}
	}
	// The next write is version 2, and the mount's keys list as before.
	resp, err := do(logical.UpdateOperation, "data/app/db", map[string]any{"data": map[string]any{"password": "q"}})
	if err != nil || resp.Data["version"] != uint64(2) && resp.Data["version"] != 2 {
		t.Fatalf("write after upgrade = %v, %v; want version 2", resp, err)
	}
	list, err := do(logical.ListOperation, "metadata/app/", nil)
	if err != nil || len(list.Data["keys"].([]string)) != 2 {
		t.Fatalf("list metadata/app/ = %v, %v", list, err)
	}
	// The v1 storage is left as it was.
	for p := range secrets {
		if _, err := from.Get(ctx, p); err != nil {
			t.Fatalf("v1 storage lost %s: %v", p, err)
		}
	}
}

func TestUpgradeV1RefusesCorruptValues(t *testing.T) {
	ctx := context.Background()
	from := inmem.New()
	if err := from.Put(ctx, &storage.Entry{Key: "bad", Value: []byte(`"secret-looking string"`)}); err != nil {
		t.Fatal(err)
	}
	_, err := UpgradeV1(ctx, from, inmem.New(), time.Now(), nil)
	if !errors.Is(err, ErrCorruptEntry) || strings.Contains(err.Error(), "secret-looking") {
		t.Fatalf("UpgradeV1 of a non-object = %v; want ErrCorruptEntry without the value", err)
	}
}
