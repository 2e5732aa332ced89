package kv

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/logical/logicaltest"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// keys returns every stored key starting with prefix, sorted, found by
// walking List from the root.
func (e *env) keys(prefix string) []string {
	e.t.Helper()
	var out []string
	var walk func(folder string)
	walk = func(folder string) {
		children, err := e.s.List(context.Background(), folder)
		if err != nil {
			e.t.Fatalf("list %q: %v", folder, err)
		}
		for _, c := range children {
			if strings.HasSuffix(c, "/") {
				walk(folder + c)
			} else if strings.HasPrefix(folder+c, prefix) {
				out = append(out, folder+c)
			}
		}
	}
	walk("")
	slices.Sort(out)
	return out
}

// contains reports whether any stored value contains needle.
func (e *env) contains(needle string) bool {
	e.t.Helper()
	for _, k := range e.keys("") {
		v, err := e.s.Get(context.Background(), k)
		if err != nil {
			e.t.Fatalf("get %q: %v", k, err)
		}
		if strings.Contains(string(v.Value), needle) {
			return true
		}
	}
	return false
}

// putRaw stores a value directly, bypassing the engine.
func (e *env) putRaw(key, value string) {
	e.t.Helper()
	if err := e.s.Put(context.Background(), &storage.Entry{Key: key, Value: []byte(value)}); err != nil {
		e.t.Fatal(err)
	}
}

// t0 is the fake clock's start; its JSON form is t0s.
func t0() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC) }

const t0s = "2024-05-06T07:08:09.123456789Z"

// env is a KV v2 engine with its storage and clock.
type env struct {
	t     testing.TB
	b     *versioned
	s     storage.Backend
	clock *logicaltest.Clock
}

func newEnv(t testing.TB) *env {
	t.Helper()
	clock := logicaltest.NewClock(t0())
	return &env{t: t, b: newVersioned(clock.Now), s: inmem.New(), clock: clock}
}

// do sends one request to the engine.
func (e *env) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return e.b.HandleRequest(context.Background(), &logical.Request{
		Operation: op, Path: path, Data: data, Storage: e.s,
	})
}

// must sends a request that has to succeed.
func (e *env) must(op logical.Operation, path string, data map[string]any) *logical.Response {
	e.t.Helper()
	resp, err := e.do(op, path, data)
	if err != nil {
		e.t.Fatalf("%s %s: %v", op, path, err)
	}
	return resp
}

// put writes a version of a secret and returns the response.
func (e *env) put(path string, data map[string]any) *logical.Response {
	e.t.Helper()
	return e.must(logical.CreateOperation, "data/"+path, map[string]any{"data": data})
}

// jsonOf marshals v the way the HTTP layer will.
func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

// assertJSON compares v's JSON with want, ignoring formatting of want.
func assertJSON(t testing.TB, v any, want string) {
	t.Helper()
	var w any
	dec := json.NewDecoder(strings.NewReader(want))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		t.Fatalf("bad expected JSON: %v", err)
	}
	if got, exp := jsonOf(t, v), jsonOf(t, w); got != exp {
		t.Fatalf("JSON mismatch\n got: %s\nwant: %s", got, exp)
	}
}

// assertNoContent checks that resp is a bare 204.
func assertNoContent(t testing.TB, resp *logical.Response) {
	t.Helper()
	if resp == nil || !resp.NoContent || resp.Data != nil || len(resp.Warnings) > 0 {
		t.Fatalf("got %+v, want a 204 (NoContent) response", resp)
	}
}

// assertKind checks that err is a logical error of the given kind.
func assertKind(t testing.TB, err error, kind logical.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want kind %d", kind)
	}
	if got := logical.KindOf(err); got != kind {
		t.Fatalf("error %q has kind %d, want %d", err, got, kind)
	}
}
