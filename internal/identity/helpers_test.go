package identity

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// countingStorage counts writes (Put, Delete, Transaction) and can be told
// to fail them.
type countingStorage struct {
	storage.Backend
	writes atomic.Int64
	fail   atomic.Bool
}

var errInjected = errors.New("injected storage failure")

func (c *countingStorage) write() error {
	c.writes.Add(1)
	if c.fail.Load() {
		return errInjected
	}
	return nil
}

func (c *countingStorage) Put(ctx context.Context, e *storage.Entry) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.Backend.Put(ctx, e)
}

func (c *countingStorage) Delete(ctx context.Context, key string) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.Backend.Delete(ctx, key)
}

func (c *countingStorage) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.Backend.Transaction(ctx, ops)
}

// Mount accessors known to the test resolver.
const (
	accA = "auth_oidc_aaaa"
	accB = "auth_userpass_bbbb"
)

func testResolver(acc string) (MountInfo, bool) {
	switch acc {
	case accA:
		return MountInfo{Accessor: accA, Type: "oidc", Path: "auth/oidc/"}, true
	case accB:
		return MountInfo{Accessor: accB, Type: "userpass", Path: "auth/userpass/"}, true
	}
	return MountInfo{}, false
}

// harness is a store over counting in-memory storage.
type harness struct {
	t  testing.TB
	s  *Store
	st *countingStorage
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	st := &countingStorage{Backend: inmem.New()}
	return newHarnessOn(t, st)
}

func newHarnessOn(t testing.TB, st *countingStorage) *harness {
	t.Helper()
	s, err := New(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.SetMountResolver(testResolver)
	return &harness{t: t, s: s, st: st}
}

// do sends one API request.
func (h *harness) do(op logical.Operation, path string, data map[string]any) (*logical.Response, error) {
	return h.s.Backend().HandleRequest(context.Background(), &logical.Request{Operation: op, Path: path, Data: data})
}

// must sends a request that has to succeed and returns its data.
func (h *harness) must(op logical.Operation, path string, data map[string]any) map[string]any {
	h.t.Helper()
	resp, err := h.do(op, path, data)
	if err != nil {
		h.t.Fatalf("%s %s: %v", op, path, err)
	}
	if resp == nil {
		return nil
	}
	return resp.Data
}

// str reads a string field.
func str(t testing.TB, data map[string]any, key string) string {
	t.Helper()
	v, ok := data[key].(string)
	if !ok {
		t.Fatalf("field %q = %#v, want a string (data %v)", key, data[key], data)
	}
	return v
}

// ids reads a []string field.
func ids(t testing.TB, data map[string]any, key string) []string {
	t.Helper()
	v, ok := data[key].([]string)
	if !ok {
		t.Fatalf("field %q = %#v, want []string", key, data[key])
	}
	return v
}

func (h *harness) createEntity(data map[string]any) string {
	h.t.Helper()
	return str(h.t, h.must(logical.UpdateOperation, "entity", data), "id")
}

func (h *harness) createGroup(data map[string]any) string {
	h.t.Helper()
	return str(h.t, h.must(logical.UpdateOperation, "group", data), "id")
}

// externalGroup creates an external group with an alias on the mount.
func (h *harness) externalGroup(name, acc, aliasName string, policies ...string) string {
	h.t.Helper()
	id := h.createGroup(map[string]any{"name": name, "type": "external", "policies": policies})
	h.must(logical.UpdateOperation, "group-alias", map[string]any{"name": aliasName, "mount_accessor": acc, "canonical_id": id})
	return id
}

func (h *harness) login(acc, name string, meta map[string]string, groups ...string) string {
	h.t.Helper()
	id, err := h.s.Login(context.Background(), acc, &logical.Alias{Name: name, Metadata: meta}, groupAliases(groups...))
	if err != nil {
		h.t.Fatalf("Login(%s, %s): %v", acc, name, err)
	}
	return id
}

func groupAliases(names ...string) []*logical.Alias {
	out := make([]*logical.Alias, len(names))
	for i, n := range names {
		out[i] = &logical.Alias{Name: n}
	}
	return out
}

func (h *harness) policies(entityID string) []string {
	h.t.Helper()
	p, err := h.s.Policies(context.Background(), entityID)
	if err != nil {
		h.t.Fatalf("Policies(%s): %v", entityID, err)
	}
	return slices.Clone(p)
}

func (h *harness) members(groupID string) []string {
	h.t.Helper()
	return ids(h.t, h.must(logical.ReadOperation, "group/id/"+groupID, nil), "member_entity_ids")
}

// wantKind checks that err is a logical error of the kind.
func wantKind(t testing.TB, err error, kind logical.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want kind %d", kind)
	}
	if got := logical.KindOf(err); got != kind {
		t.Fatalf("error %q has kind %d, want %d", err, got, kind)
	}
}
