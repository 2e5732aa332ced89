// Package identity is Coffer's identity store: entities with one alias per
// auth mount, internal and external groups, and the policies they grant,
// served as Vault's identity/* API and consulted by the core at login and
// on every request.
//
// Everything is loaded into memory at New (identity data is small next to
// tokens and leases) and kept there behind one RWMutex; every write goes to
// storage first and to memory only once storage accepted it. An entity and
// its aliases are one JSON object under "entity/<id>", a group (with its
// alias) one object under "group/<id>"; writes touching several objects use
// one storage transaction. A standby node, whose storage changes under it,
// keeps memory current with Store.Invalidate.
package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// Storage prefixes inside the store's view.
const (
	entityPrefix = "entity/"
	groupPrefix  = "group/"
)

var (
	// ErrEntityDisabled is returned by Login and Policies for a disabled
	// entity: its tokens must not be used. It is a permission-denied error.
	ErrEntityDisabled error = &logical.Error{Kind: logical.KindPermissionDenied, Msg: "entity is disabled"}
	// ErrNotFound is returned by Entity for an unknown entity ID.
	ErrNotFound = errors.New("identity: not found")
	// ErrInvalidAlias is returned by Login for a login without a mount
	// accessor or alias name.
	ErrInvalidAlias = errors.New("identity: login alias needs a mount accessor and a name")
)

// MountInfo describes an auth mount, for alias validation and for
// mount_type/mount_path in reads.
type MountInfo struct{ Accessor, Type, Path string }

// Store keeps entities, aliases and groups in a storage view (already
// barrier-encrypted). It is safe for concurrent use.
type Store struct {
	view   storage.Backend
	logger *slog.Logger
	router *logical.Router
	now    func() time.Time

	mu       sync.RWMutex
	idx      *index
	cache    *policyCache
	resolver func(accessor string) (MountInfo, bool)
}

// New loads every entity and group from view and returns the store.
func New(ctx context.Context, view storage.Backend, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{view: view, logger: logger, now: time.Now, cache: newPolicyCache()}
	idx, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.idx = idx
	s.router = s.newRouter()
	logger.Debug("identity store loaded", "entities", len(s.idx.entities), "groups", len(s.idx.groups))
	return s, nil
}

// load reads every stored entity and group into a new index.
func (s *Store) load(ctx context.Context) (*index, error) {
	idx := newIndex()
	ids, err := s.view.List(ctx, entityPrefix)
	if err != nil {
		return nil, fmt.Errorf("identity: list entities: %w", err)
	}
	for _, id := range ids {
		var e Entity
		if err := s.readJSON(ctx, entityPrefix+id, &e); err != nil {
			return nil, err
		}
		idx.putEntity(&e)
	}
	ids, err = s.view.List(ctx, groupPrefix)
	if err != nil {
		return nil, fmt.Errorf("identity: list groups: %w", err)
	}
	for _, id := range ids {
		var g Group
		if err := s.readJSON(ctx, groupPrefix+id, &g); err != nil {
			return nil, err
		}
		idx.putGroup(&g)
	}
	return idx, nil
}

func (s *Store) readJSON(ctx context.Context, key string, v any) error {
	ent, err := s.view.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("identity: read %s: %w", key, err)
	}
	if err := json.Unmarshal(ent.Value, v); err != nil {
		return fmt.Errorf("identity: decode %s: %w", key, err)
	}
	return nil
}

// SetMountResolver sets the function that maps an auth mount accessor to
// its mount. The core calls it once mounts are loaded; until then every
// mount accessor is unknown to the API. f is called with the store's lock
// held, so it must not call back into the Store; it must be safe for
// concurrent use.
func (s *Store) SetMountResolver(f func(accessor string) (MountInfo, bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resolver = f
}

// mount resolves an accessor; callers hold s.mu.
func (s *Store) mount(accessor string) (MountInfo, bool) {
	if s.resolver == nil || accessor == "" {
		return MountInfo{}, false
	}
	return s.resolver(accessor)
}

// Backend serves the identity/* HTTP API, with paths relative to the
// "identity/" mount. It keeps its data in the store's view and ignores
// Request.Storage.
func (s *Store) Backend() logical.Backend { return s.router }

// Entity returns a copy of the entity with the ID, or ErrNotFound.
func (s *Store) Entity(_ context.Context, id string) (*Entity, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.idx.entities[id]
	if !ok {
		return nil, ErrNotFound
	}
	return e.clone(), nil
}

// change is a set of objects one write stores or deletes together.
type change struct {
	entities      []*Entity
	groups        []*Group
	deleteEntity  []string
	deleteGroup   []string
	changedGroups map[string]*Group
}

// group returns the copy of the group this change writes, cloning the
// stored one on first use, so several edits to one group become one Put.
func (c *change) group(x *index, id string) *Group {
	if g, ok := c.changedGroups[id]; ok {
		return g
	}
	g := x.groups[id].clone()
	if c.changedGroups == nil {
		c.changedGroups = map[string]*Group{}
	}
	c.changedGroups[id] = g
	c.groups = append(c.groups, g)
	return g
}

func (c *change) empty() bool {
	return len(c.entities)+len(c.groups)+len(c.deleteEntity)+len(c.deleteGroup) == 0
}

// commit writes the change to storage (one transaction when it touches
// more than one object), then applies it to the index and drops the
// policy cache. Callers hold s.mu for writing.
func (s *Store) commit(ctx context.Context, c *change) error {
	if c.empty() {
		return nil
	}
	var ops []storage.TxnOp
	for _, e := range c.entities {
		op, err := putOp(entityPrefix+e.ID, e)
		if err != nil {
			return err
		}
		ops = append(ops, op)
	}
	for _, g := range c.groups {
		op, err := putOp(groupPrefix+g.ID, g)
		if err != nil {
			return err
		}
		ops = append(ops, op)
	}
	for _, id := range c.deleteEntity {
		ops = append(ops, storage.TxnOp{Kind: storage.OpDelete, Entry: storage.Entry{Key: entityPrefix + id}})
	}
	for _, id := range c.deleteGroup {
		ops = append(ops, storage.TxnOp{Kind: storage.OpDelete, Entry: storage.Entry{Key: groupPrefix + id}})
	}
	if err := s.write(ctx, ops); err != nil {
		return err
	}
	for _, id := range c.deleteEntity {
		s.idx.removeEntity(id)
	}
	for _, id := range c.deleteGroup {
		s.idx.removeGroup(id)
	}
	for _, e := range c.entities {
		s.idx.putEntity(e)
	}
	for _, g := range c.groups {
		s.idx.putGroup(g)
	}
	s.cache = newPolicyCache()
	return nil
}

func putOp(key string, v any) (storage.TxnOp, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return storage.TxnOp{}, fmt.Errorf("identity: encode %s: %w", key, err)
	}
	return storage.TxnOp{Kind: storage.OpPut, Entry: storage.Entry{Key: key, Value: b}}, nil
}

// write applies ops: a single op as a plain Put or Delete, more as one
// transaction.
func (s *Store) write(ctx context.Context, ops []storage.TxnOp) error {
	var err error
	switch {
	case len(ops) > 1:
		err = s.view.Transaction(ctx, ops)
	case ops[0].Kind == storage.OpPut:
		err = s.view.Put(ctx, &ops[0].Entry)
	default:
		err = s.view.Delete(ctx, ops[0].Entry.Key)
	}
	if err != nil {
		return fmt.Errorf("identity: write: %w", err)
	}
	return nil
}

// newID returns a random UUID (version 4), the shape of Vault's IDs.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it aborts the program instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newEntityLocked returns a new entity named "entity_<first 8 hex of its
// ID>", as Vault names entities created at login. Callers hold s.mu.
func (s *Store) newEntityLocked(now time.Time) *Entity {
	for {
		id := newID()
		name := "entity_" + id[:8]
		if _, taken := s.idx.entityByName[name]; taken {
			continue
		}
		if _, taken := s.idx.entities[id]; taken {
			continue
		}
		return &Entity{ID: id, Name: name, CreationTime: now, LastUpdateTime: now}
	}
}
