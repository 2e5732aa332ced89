package core

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cofferdev/coffer/internal/identity"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// mountTableKey is the barrier key holding the mount table.
const mountTableKey = "sys/config/mounts"

// Mount tables.
const (
	tableSecret = "secret"
	tableAuth   = "auth"
)

// MountEntry is one mounted engine or auth method.
type MountEntry struct {
	Table       string            `json:"table"`
	Path        string            `json:"path"`
	Type        string            `json:"type"`
	Description string            `json:"description"`
	UUID        string            `json:"uuid"`
	Accessor    string            `json:"accessor"`
	Options     map[string]string `json:"options,omitempty"`
	Local       bool              `json:"local"`
	SealWrap    bool              `json:"seal_wrap"`
	Config      MountConfig       `json:"config"`
	// KVUpgradeUUID is set while a KV v1 mount's data is being copied for
	// its upgrade to version 2: the UUID the copy's storage is under. A
	// start that finds it wipes that storage; the upgrade did not finish.
	KVUpgradeUUID string `json:"kv_upgrade_uuid,omitempty"`
	// RetiredView is the storage prefix of the KV v1 data an upgraded
	// mount left behind, until it is wiped.
	RetiredView string `json:"retired_view,omitempty"`

	backend logical.Backend
	view    storage.Backend
	sys     mountSystemView
}

// mountSystemView resolves a mount's TTLs against the system's. Tuning
// swaps the config pointer, so backends see new TTLs without a restart.
type mountSystemView struct {
	c   *Core
	cfg *atomic.Pointer[MountConfig]
}

// MountConfig holds a mount's tunables.
type MountConfig struct {
	DefaultLeaseTTL time.Duration `json:"default_lease_ttl"`
	MaxLeaseTTL     time.Duration `json:"max_lease_ttl"`
	// TokenType is an auth mount's token_type tuning ("" = default-service).
	TokenType string `json:"token_type,omitempty"`
}

func (v mountSystemView) DefaultLeaseTTL() time.Duration {
	if d := v.cfg.Load().DefaultLeaseTTL; d != 0 {
		return d
	}
	return v.c.defaultTTL
}

// GeneratePassword implements logical.PasswordGenerator.
func (v mountSystemView) GeneratePassword(ctx context.Context, policy string) (string, error) {
	return v.c.GeneratePassword(ctx, policy)
}

func (v mountSystemView) MaxLeaseTTL() time.Duration {
	if d := v.cfg.Load().MaxLeaseTTL; d != 0 {
		return d
	}
	return v.c.maxTTL
}

// builtinTypes are mounted by the core itself and cannot be enabled or
// disabled through sys/mounts.
var builtinTypes = map[string]bool{"system": true, "cubbyhole": true, "token": true, "identity": true}

// mountTable is the set of mounts and the router over them. Reads take mu
// for reading; mount changes rebuild the map under the write lock.
type mountTable struct {
	mu      sync.RWMutex
	entries map[string]*MountEntry // by path
	// busy holds the mounts being moved (sys/remount) or upgraded (KV v1
	// to v2), by path, with what is happening to them: route skips them,
	// so no request reaches them (lease revocation, which looks mounts up
	// with get, still does).
	busy map[string]string
}

// setBusy marks the mount at path busy with what ("" clears it).
func (t *mountTable) setBusy(path, what string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if what == "" {
		delete(t.busy, path)
		return
	}
	if t.busy == nil {
		t.busy = map[string]string{}
	}
	t.busy[path] = what
}

func (t *mountTable) isBusy(path string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.busy[path] != ""
}

// busyWith tells, for a request path route found no mount for, whether a
// busy mount would serve it and what it is busy with.
func (t *mountTable) busyWith(path string) (mount, what string) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for p, w := range t.busy {
		if strings.HasPrefix(path, p) || path+"/" == p {
			return p, w
		}
	}
	return "", ""
}

// route finds the mount for path by trying each "/"-bounded prefix, longest
// first, so lookup cost depends on path depth, not on the number of mounts.
func (t *mountTable) route(path string) *MountEntry {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for i := len(path); i > 0; i-- {
		if path[i-1] != '/' && i != len(path) {
			continue
		}
		prefix := path[:i]
		if !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		if m, ok := t.entries[prefix]; ok {
			if len(t.busy) > 0 && t.busy[prefix] != "" {
				return nil
			}
			return m
		}
	}
	return nil
}

// list returns the entries of a table sorted by path.
func (t *mountTable) list(table string) []*MountEntry {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []*MountEntry
	for _, m := range t.entries {
		if m.Table == table {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// identityMount describes the auth mount with the given accessor, for the
// identity store's alias checks and reads.
func (t *mountTable) identityMount(accessor string) (identity.MountInfo, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, m := range t.entries {
		if m.Accessor == accessor && m.Table == tableAuth {
			return identity.MountInfo{Accessor: m.Accessor, Type: m.Type, Path: m.Path}, true
		}
	}
	return identity.MountInfo{}, false
}

func (t *mountTable) get(path string) *MountEntry {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.entries[path]
}

// persisted returns the table as stored.
func (t *mountTable) persisted() []*MountEntry {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]*MountEntry, 0, len(t.entries))
	for _, m := range t.entries {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func newID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("core: crypto/rand failed: %v", err))
	}
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newAccessor names a mount as Vault does: "kv_1a2b3c4d" for secrets
// engines, "auth_userpass_1a2b3c4d" for auth methods.
func newAccessor(table, typ string) string {
	if table == tableAuth {
		return "auth_" + typ + "_" + newID()[:8]
	}
	return typ + "_" + newID()[:8]
}

// viewPrefix is where a mount's private storage lives inside the barrier.
func viewPrefix(m *MountEntry) string {
	if m.Table == tableAuth {
		return "auth/" + m.UUID + "/"
	}
	return "logical/" + m.UUID + "/"
}

// loadMounts reads the mount table, creating the defaults on first unseal.
func (c *Core) loadMounts(ctx context.Context) ([]*MountEntry, error) {
	var entries []*MountEntry
	e, err := c.barrier.Get(ctx, mountTableKey)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("core: read mount table: %w", err)
	default:
		if err := json.Unmarshal(e.Value, &entries); err != nil {
			return nil, fmt.Errorf("core: corrupt mount table: %w", err)
		}
	}
	added := false
	for _, d := range builtinMounts() {
		if !slices.ContainsFunc(entries, func(m *MountEntry) bool { return m.Path == d.Path }) {
			d.UUID, d.Accessor = newID(), newAccessor(d.Table, d.Type)
			entries = append(entries, d)
			added = true
		}
	}
	if added {
		if err := c.saveMounts(ctx, entries); err != nil {
			return nil, err
		}
	}
	return entries, nil
}

// builtinMounts are the mounts every Coffer has; a table written by an
// older version gains the ones it lacks at unseal.
func builtinMounts() []*MountEntry {
	return []*MountEntry{
		{Table: tableSecret, Path: "cubbyhole/", Type: "cubbyhole", Description: "per-token private secret storage"},
		{Table: tableSecret, Path: "identity/", Type: "identity", Description: "identity store"},
		{Table: tableSecret, Path: "sys/", Type: "system", Description: "system endpoints used for control, policy and debugging"},
		{Table: tableAuth, Path: "auth/token/", Type: "token", Description: "token based credentials"},
	}
}

func (c *Core) saveMounts(ctx context.Context, entries []*MountEntry) error {
	b, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	if err := c.barrier.Put(ctx, &storage.Entry{Key: mountTableKey, Value: b}); err != nil {
		return fmt.Errorf("core: write mount table: %w", err)
	}
	return nil
}

// instantiate builds the backend of a mount. Built-in types are served by
// the core; everything else comes from the factory map.
func (c *Core) instantiate(ctx context.Context, st *unsealedState, m *MountEntry) error {
	m.view = storage.NewView(c.barrier, viewPrefix(m))
	if m.Type == "kv" {
		m.view = storage.NewGate(m.view) // closed while upgradeKV copies it
	}
	cfg := &atomic.Pointer[MountConfig]{}
	mc := m.Config
	cfg.Store(&mc)
	m.sys = mountSystemView{c: c, cfg: cfg}
	switch m.Type {
	case "system":
		m.backend = newSystemBackend(c, st)
		return nil
	case "token":
		m.backend = st.tokenBackend
		return nil
	case "identity":
		m.backend = st.identity.Backend()
		return nil
	}
	factories, kind := c.factories, "secrets engine"
	if m.Table == tableAuth {
		factories, kind = c.authFactories, "auth method"
	}
	f, ok := factories[m.Type]
	if !ok {
		return logical.InvalidRequest("unknown %s type %q", kind, m.Type)
	}
	b, err := f(ctx, &logical.BackendConfig{
		Logger: c.logger.With("mount", m.Path), Storage: m.view,
		MountPath: m.Path, Options: m.Options, System: m.sys, Standby: !st.active,
	})
	if err != nil {
		return fmt.Errorf("core: create %s backend at %s: %w", m.Type, m.Path, err)
	}
	m.backend = b
	return nil
}
