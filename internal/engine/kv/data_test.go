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
)

func TestFactory(t *testing.T) {
	tests := []struct {
		version string
		wantV2  bool
		wantErr error
	}{
		{version: "", wantV2: false},
		{version: "1", wantV2: false},
		{version: "2", wantV2: true},
		{version: "3", wantErr: ErrUnsupportedVersion},
	}
	for _, tt := range tests {
		t.Run("version="+tt.version, func(t *testing.T) {
			b, err := Factory(context.Background(), &logical.BackendConfig{Options: map[string]string{"version": tt.version}})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if _, isV2 := b.(*versioned); isV2 != tt.wantV2 {
				t.Fatalf("got %T, want v2=%v", b, tt.wantV2)
			}
		})
	}
	if _, err := Factory(context.Background(), nil); !errors.Is(err, ErrNilConfig) {
		t.Fatalf("nil config: err = %v", err)
	}
}

func TestDataWriteAndReadShapes(t *testing.T) {
	e := newEnv(t)
	resp := e.put("app/db", map[string]any{"user": "admin", "n": json.Number("12345678901234567890")})
	assertJSON(t, resp.Data, `{"created_time":"`+t0s+`","custom_metadata":null,"deletion_time":"","destroyed":false,"version":1}`)

	e.clock.Advance(time.Second)
	resp = e.put("app/db", map[string]any{"user": "root"})
	assertJSON(t, resp.Data, `{"created_time":"2024-05-06T07:08:10.123456789Z","custom_metadata":null,"deletion_time":"","destroyed":false,"version":2}`)

	tests := []struct {
		name string
		data map[string]any
		want string
	}{
		{"latest", nil, `{"data":{"user":"root"},"metadata":{"created_time":"2024-05-06T07:08:10.123456789Z","custom_metadata":null,"deletion_time":"","destroyed":false,"version":2}}`},
		{"version 0 is latest", map[string]any{"version": "0"}, `{"data":{"user":"root"},"metadata":{"created_time":"2024-05-06T07:08:10.123456789Z","custom_metadata":null,"deletion_time":"","destroyed":false,"version":2}}`},
		{"version 1 keeps big numbers exact", map[string]any{"version": "1"}, `{"data":{"n":12345678901234567890,"user":"admin"},"metadata":{"created_time":"` + t0s + `","custom_metadata":null,"deletion_time":"","destroyed":false,"version":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.must(logical.ReadOperation, "data/app/db", tt.data)
			if resp.NotFound {
				t.Fatal("live version marked not found")
			}
			assertJSON(t, resp.Data, tt.want)
		})
	}
}

func TestDataReadMissing(t *testing.T) {
	e := newEnv(t)
	e.put("a", map[string]any{"k": "v"})
	e.must(logical.UpdateOperation, "metadata/only-meta", map[string]any{"max_versions": 3})
	tests := []struct {
		name, path string
		data       map[string]any
	}{
		{"absent key", "data/b", nil},
		{"absent version", "data/a", map[string]any{"version": 7}},
		{"metadata without versions", "data/only-meta", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := e.do(logical.ReadOperation, tt.path, tt.data)
			if err != nil || resp != nil {
				t.Fatalf("got %+v, %v; want nil, nil (404)", resp, err)
			}
		})
	}
}

func TestDataWriteValidation(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("a", maxPathLen+1)
	tests := []struct {
		name string
		path string
		data map[string]any
		kind logical.Kind
	}{
		{"no data", "data/x", map[string]any{}, logical.KindInvalidRequest},
		{"null data", "data/x", map[string]any{"data": nil}, logical.KindInvalidRequest},
		{"data not an object", "data/x", map[string]any{"data": "str"}, logical.KindInvalidRequest},
		{"dot dot", "data/a/../b", map[string]any{"data": map[string]any{"k": "v"}}, logical.KindInvalidRequest},
		{"empty segment", "data/a//b", map[string]any{"data": map[string]any{"k": "v"}}, logical.KindInvalidRequest},
		{"trailing slash", "data/a/", map[string]any{"data": map[string]any{"k": "v"}}, logical.KindInvalidRequest},
		{"leading slash", "data//a", map[string]any{"data": map[string]any{"k": "v"}}, logical.KindInvalidRequest},
		{"control char", "data/a\nb", map[string]any{"data": map[string]any{"k": "v"}}, logical.KindInvalidRequest},
		{"invalid utf8", "data/a\xffb", map[string]any{"data": map[string]any{"k": "v"}}, logical.KindInvalidRequest},
		{"too long", "data/" + long, map[string]any{"data": map[string]any{"k": "v"}}, logical.KindInvalidRequest},
		{"v1 style path", "x", map[string]any{"k": "v"}, logical.KindUnsupportedPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.do(logical.CreateOperation, tt.path, tt.data)
			assertKind(t, err, tt.kind)
		})
	}
	if keys := e.keys(""); len(keys) != 0 {
		t.Fatalf("rejected writes stored %v", keys)
	}
	// The longest valid path works.
	e.put(long[:maxPathLen], map[string]any{"k": "v"})
}

func TestCheckAndSet(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(e *env)
		options    map[string]any
		wantErr    string
		wantVerson uint64
	}{
		{"cas 0 on absent key", nil, map[string]any{"cas": 0}, "", 1},
		{"cas 0 on existing key", func(e *env) { e.put("k", map[string]any{"a": "1"}) }, map[string]any{"cas": 0}, "did not match", 0},
		{"cas matches", func(e *env) { e.put("k", map[string]any{"a": "1"}) }, map[string]any{"cas": json.Number("1")}, "", 2},
		{"cas as string", func(e *env) { e.put("k", map[string]any{"a": "1"}) }, map[string]any{"cas": "1"}, "", 2},
		{"cas stale", func(e *env) { e.put("k", map[string]any{"a": "1"}); e.put("k", map[string]any{"a": "2"}) }, map[string]any{"cas": 1}, "did not match", 0},
		{"cas negative", nil, map[string]any{"cas": -1}, "did not match", 0},
		{"cas not a number", nil, map[string]any{"cas": "one"}, "error parsing check-and-set parameter", 0},
		{"mount requires cas", func(e *env) { e.must(logical.UpdateOperation, "config", map[string]any{"cas_required": true}) }, nil, "required", 0},
		{"mount requires cas, sent", func(e *env) { e.must(logical.UpdateOperation, "config", map[string]any{"cas_required": true}) }, map[string]any{"cas": 0}, "", 1},
		{"key requires cas", func(e *env) { e.must(logical.UpdateOperation, "metadata/k", map[string]any{"cas_required": true}) }, nil, "required", 0},
		{"key requires cas, sent", func(e *env) { e.must(logical.UpdateOperation, "metadata/k", map[string]any{"cas_required": true}) }, map[string]any{"cas": 0}, "", 1},
		{"other options ignored", nil, map[string]any{"other": 1}, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.setup != nil {
				tt.setup(e)
			}
			body := map[string]any{"data": map[string]any{"a": "new"}}
			if tt.options != nil {
				body["options"] = tt.options
			}
			resp, err := e.do(logical.UpdateOperation, "data/k", body)
			if tt.wantErr != "" {
				assertKind(t, err, logical.KindInvalidRequest)
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %q, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("write: %v", err)
			}
			if got := resp.Data["version"]; got != tt.wantVerson {
				t.Fatalf("version = %v, want %d", got, tt.wantVerson)
			}
		})
	}
}

func TestConcurrentCASCreatesOnce(t *testing.T) {
	e := newEnv(t)
	const writers = 16
	errs := make(chan error, writers)
	for i := range writers {
		go func() {
			_, err := e.do(logical.CreateOperation, "data/race", map[string]any{
				"data": map[string]any{"writer": i}, "options": map[string]any{"cas": 0},
			})
			errs <- err
		}()
	}
	ok := 0
	for range writers {
		if err := <-errs; err == nil {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent cas=0 writes succeeded, want 1", ok)
	}
	meta, err := loadMetadata(context.Background(), e.s, "race")
	if err != nil || meta.CurrentVersion != 1 {
		t.Fatalf("current version = %+v, %v; want 1", meta, err)
	}
}

func TestDataSoftDelete(t *testing.T) {
	e := newEnv(t)
	e.put("k", map[string]any{"a": "1"})
	e.clock.Advance(time.Minute)
	assertNoContent(t, e.must(logical.DeleteOperation, "data/k", nil))
	resp := e.must(logical.ReadOperation, "data/k", nil)
	if !resp.NotFound {
		t.Fatal("read of a deleted version is not a 404")
	}
	assertJSON(t, resp.Data, `{"data":null,"metadata":{"created_time":"`+t0s+`","custom_metadata":null,"deletion_time":"2024-05-06T07:09:09.123456789Z","destroyed":false,"version":1}}`)
	if !e.contains(`"a":"1"`) {
		t.Fatal("soft delete removed the version data")
	}
	// Deleting again keeps the first deletion time.
	e.clock.Advance(time.Minute)
	e.must(logical.DeleteOperation, "data/k", nil)
	resp = e.must(logical.ReadOperation, "data/k", nil)
	if got := resp.Data["metadata"].(map[string]any)["deletion_time"]; got != "2024-05-06T07:09:09.123456789Z" {
		t.Fatalf("deletion_time moved to %v", got)
	}
	// A delete of an absent key is a no-op.
	assertNoContent(t, e.must(logical.DeleteOperation, "data/absent", nil))
}

func TestWritesAreAtomic(t *testing.T) {
	e := newEnv(t)
	e.put("k", map[string]any{"a": "1"})
	before := e.keys("")
	failing := &failTxn{Backend: e.s}
	_, err := e.b.HandleRequest(context.Background(), &logical.Request{
		Operation: logical.UpdateOperation, Path: "data/k", Storage: failing,
		Data: map[string]any{"data": map[string]any{"a": "2"}},
	})
	if err == nil {
		t.Fatal("write succeeded without its transaction")
	}
	if after := e.keys(""); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("failed write changed storage: %v -> %v", before, after)
	}
	resp := e.must(logical.ReadOperation, "data/k", nil)
	assertJSON(t, resp.Data["data"], `{"a":"1"}`)
}

// failTxn is storage whose transactions fail.
type failTxn struct{ storage.Backend }

func (f *failTxn) Transaction(context.Context, []storage.TxnOp) error {
	return errors.New("transaction refused")
}

func TestSecretsStayOutOfErrors(t *testing.T) {
	const secret = "s3cr3t-value-zz"
	e := newEnv(t)
	e.put("k", map[string]any{"pw": secret})
	e.must(logical.DeleteOperation, "data/k", nil)
	e.putRaw("metadata/corrupt", `{"current_version":1,"versions":{"1":{}}}`)
	e.putRaw("versions/corrupt/1", `{"pw":"`+secret+`"`)
	calls := []struct {
		op   logical.Operation
		path string
		data map[string]any
	}{
		{logical.UpdateOperation, "data/k", map[string]any{"data": map[string]any{"pw": secret}, "options": map[string]any{"cas": 9}}},
		{logical.PatchOperation, "data/k", map[string]any{"data": map[string]any{"pw": secret}}},
		{logical.ReadOperation, "data/corrupt", nil},
		{logical.ReadOperation, "subkeys/corrupt", nil},
		{logical.UpdateOperation, "data/" + secret + "/../x", map[string]any{"data": map[string]any{"pw": secret}}},
		{logical.UpdateOperation, "metadata/k", map[string]any{"custom_metadata": map[string]any{"k": strings.Repeat(secret, 40)}}},
	}
	for _, c := range calls {
		resp, err := e.do(c.op, c.path, c.data)
		if strings.Contains(jsonOf(t, resp), secret) {
			t.Errorf("%s %s: response carries the secret", c.op, c.path)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s %s: error %q carries the secret", c.op, c.path, err)
		}
	}
}
