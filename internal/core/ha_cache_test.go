package core

import (
	"context"
	"sync"
	"testing"

	"github.com/cofferdev/coffer/internal/engine/cubbyhole"
	"github.com/cofferdev/coffer/internal/engine/kv"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// fakeHA plays a node's raft: whether it leads and in which term, and a
// hook that runs inside the next ConsistentRead (raft applying what it
// must before a read returns).
type fakeHA struct {
	mu     sync.Mutex
	leader bool
	term   uint64
	onRead func()
}

func (f *fakeHA) set(leader bool, term uint64) {
	f.mu.Lock()
	f.leader, f.term = leader, term
	f.mu.Unlock()
}

func (f *fakeHA) NodeID() string { return "self" }
func (f *fakeHA) IsLeader() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leader
}
func (f *fakeHA) Term() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.term
}
func (f *fakeHA) Leader() (string, string) {
	if f.IsLeader() {
		return "self", ""
	}
	return "other", ""
}
func (f *fakeHA) ConsistentRead(context.Context) error {
	f.mu.Lock()
	fn := f.onRead
	f.onRead = nil
	f.mu.Unlock()
	if fn != nil {
		fn()
	}
	return nil
}
func (f *fakeHA) LeadershipTransfer() error { return nil }
func (f *fakeHA) CommitIndex() uint64       { return 0 }
func (f *fakeHA) AppliedIndex() uint64      { return 0 }

// replicated records the physical keys written through it, which the test
// hands to another node's Invalidate when it chooses: the moment raft
// would apply them there.
type replicated struct {
	storage.Backend
	mu   sync.Mutex
	keys []string
}

func (r *replicated) note(err error, keys ...string) error {
	if err == nil {
		r.mu.Lock()
		r.keys = append(r.keys, keys...)
		r.mu.Unlock()
	}
	return err
}

func (r *replicated) Put(ctx context.Context, e *storage.Entry) error {
	return r.note(r.Backend.Put(ctx, e), e.Key)
}

func (r *replicated) Delete(ctx context.Context, key string) error {
	return r.note(r.Backend.Delete(ctx, key), key)
}

func (r *replicated) Transaction(ctx context.Context, ops []storage.TxnOp) error {
	keys := make([]string, len(ops))
	for i, op := range ops {
		keys[i] = op.Entry.Key
	}
	return r.note(r.Backend.Transaction(ctx, ops), keys...)
}

// take returns the keys written since the last call.
func (r *replicated) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.keys
	r.keys = nil
	return k
}

// haPair is two cores on one physical store: the active node writes
// through a recorder, the standby sees each write in storage at once but
// hears of it (Invalidate) only when the test delivers it, as a raft
// follower whose state machine applies entries later.
type haPair struct {
	t               *testing.T
	active, standby *Core
	activeHA, sbHA  *fakeHA
	log             *replicated
	root            string
}

func newHAPair(t *testing.T) *haPair {
	t.Helper()
	ctx := context.Background()
	phys := inmem.New()
	p := &haPair{t: t, log: &replicated{Backend: phys}, activeHA: &fakeHA{leader: true, term: 1}, sbHA: &fakeHA{term: 1}}
	factories := map[string]logical.Factory{"cubbyhole": cubbyhole.Factory, "kv": kv.Factory}
	var err error
	if p.active, err = New(Config{Physical: p.log, HA: p.activeHA, Factories: factories}); err != nil {
		t.Fatal(err)
	}
	if p.standby, err = New(Config{Physical: phys, HA: p.sbHA, Factories: factories}); err != nil {
		t.Fatal(err)
	}
	res, err := p.active.Initialize(ctx, InitParams{SecretShares: 1, SecretThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	p.root = res.RootToken
	for _, c := range []*Core{p.active, p.standby} {
		if err := c.Unseal(ctx, res.Keys[0]); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Seal(context.Background()) })
	}
	if !p.active.Active() || !p.standby.Standby() {
		t.Fatalf("roles: active=%v standby=%v", p.active.Active(), p.standby.Standby())
	}
	p.log.take()
	mustDo(t, p.active, logical.UpdateOperation, "sys/mounts/secret", p.root, map[string]any{"type": "kv", "options": map[string]any{"version": "2"}})
	p.deliver()
	return p
}

// deliver applies on the standby what the active node wrote so far.
func (p *haPair) deliver() { p.standby.Invalidate(p.log.take()) }

func (p *haPair) write(v string) {
	p.t.Helper()
	mustDo(p.t, p.active, logical.UpdateOperation, "secret/data/k", p.root, map[string]any{"data": map[string]any{"v": v}})
}

// read returns secret/k's "v" as c serves it.
func (p *haPair) read(c *Core) string {
	p.t.Helper()
	resp := mustDo(p.t, c, logical.ReadOperation, "secret/data/k", p.root, nil)
	data, _ := resp.Data["data"].(map[string]any)
	v, _ := data["v"].(string)
	return v
}

// TestStandbyCacheAcrossPromotion: writes the old leader committed that
// the new leader applies only while it is becoming active (raft commits
// them with the new term's first entry) must not leave the values it
// cached as a standby in place.
func TestStandbyCacheAcrossPromotion(t *testing.T) {
	p := newHAPair(t)
	p.write("v1")
	p.deliver()
	if got := p.read(p.standby); got != "v1" {
		t.Fatalf("standby read %q; want v1", got)
	}
	p.write("v2") // committed, not yet applied on the standby
	p.activeHA.set(false, 2)
	p.sbHA.mu.Lock()
	p.sbHA.onRead = p.deliver
	p.sbHA.mu.Unlock()
	p.promote(2)
	if got := p.read(p.standby); got != "v2" {
		t.Fatalf("the new active node read %q; want v2, which it applied while becoming active", got)
	}
}

// putRaw writes v at the barrier key test/x through the active node,
// without telling the standby.
func (p *haPair) putRaw(v string) {
	p.t.Helper()
	if err := p.active.barrier.Put(context.Background(), &storage.Entry{Key: "test/x", Value: []byte(v)}); err != nil {
		p.t.Fatal(err)
	}
}

// getRaw reads test/x through c's barrier (its cache, then storage).
func (p *haPair) getRaw(c *Core) string {
	p.t.Helper()
	e, err := c.barrier.Get(context.Background(), "test/x")
	if err != nil {
		p.t.Fatal(err)
	}
	return string(e.Value)
}

// promote makes the standby the active node in term.
func (p *haPair) promote(term uint64) {
	p.t.Helper()
	p.sbHA.set(true, term)
	p.standby.LeadershipChanged(true)
	p.standby.reconcileRole(context.Background())
	if !p.standby.Active() {
		p.t.Fatal("the promoted node is not active")
	}
}

// TestStandbyCacheWhileRoleChangeWaits: a write applied while a role
// change waits for in-flight requests (so the apply hook cannot take the
// state lock) is invisible to none of those requests' reads.
func TestStandbyCacheWhileRoleChangeWaits(t *testing.T) {
	p := newHAPair(t)
	c := p.standby
	p.putRaw("old")
	p.deliver()
	if got := p.getRaw(c); got != "old" {
		t.Fatalf("standby read %q", got)
	}
	p.putRaw("new")
	// An in-flight request holds the state; a role change waits for it.
	c.stateLock.RLock()
	locked := make(chan struct{})
	var hadState bool
	go func() {
		c.stateLock.Lock()
		hadState = c.unsealed != nil
		c.stateLock.Unlock()
		close(locked)
	}()
	for c.stateLock.TryRLock() {
		c.stateLock.RUnlock()
	}
	p.deliver()
	got := p.getRaw(c)
	c.stateLock.RUnlock()
	<-locked
	if !hadState {
		t.Fatal("the standby state went away")
	}
	if got != "new" {
		t.Fatalf("the in-flight request read %q after the write was applied; want new", got)
	}
}

// TestDeposedActiveCache: a node that lost leadership but has not yet
// rebuilt its state as a standby applies the new leader's writes; its
// reads must see them.
func TestDeposedActiveCache(t *testing.T) {
	p := newHAPair(t)
	p.promote(2) // the standby plays the deposed leader
	p.putRaw("old")
	p.deliver()
	if got := p.getRaw(p.standby); got != "old" {
		t.Fatalf("read %q", got)
	}
	// Raft steps down and follows a new leader; the core has not heard.
	p.sbHA.set(false, 3)
	p.putRaw("new")
	p.deliver()
	if got := p.getRaw(p.standby); got != "new" {
		t.Fatalf("the deposed node read %q after applying the new leader's write; want new", got)
	}
}

// TestActiveStateOutlivesItsTerm: a node deposed and re-elected before its
// core noticed keeps an active state from the old term. Writes it applies
// in the new term may be another leader's, so they drop its cached values,
// and the next reconcile rebuilds the state.
func TestActiveStateOutlivesItsTerm(t *testing.T) {
	p := newHAPair(t)
	c := p.standby
	p.promote(2)
	p.putRaw("old")
	p.deliver()
	if got := p.getRaw(c); got != "old" {
		t.Fatalf("read %q", got)
	}
	p.sbHA.set(true, 4) // lost term 2, leads again in term 4
	p.putRaw("new")     // term 3's leader's write, applied now
	p.deliver()
	if got := p.getRaw(c); got != "new" {
		t.Fatalf("read %q after applying a write of another term; want new", got)
	}
	c.reconcileRole(context.Background())
	c.stateLock.RLock()
	term, active := c.unsealed.term, c.unsealed.active
	c.stateLock.RUnlock()
	if !active || term != 4 {
		t.Fatalf("after reconcile: active=%v term=%d; want an active state of term 4", active, term)
	}
}

// TestRestoreDropsCache: a snapshot installed under a node drops every
// value it cached before readers can see the restored index.
func TestRestoreDropsCache(t *testing.T) {
	p := newHAPair(t)
	p.putRaw("old")
	p.deliver()
	if got := p.getRaw(p.standby); got != "old" {
		t.Fatalf("read %q", got)
	}
	p.putRaw("new")
	p.log.take()
	p.standby.InvalidateAll()
	if got := p.getRaw(p.standby); got != "new" {
		t.Fatalf("read %q after a restore; want new", got)
	}
}
