// Package database implements the database secrets engine for PostgreSQL
// (plugin_name "postgresql-database-plugin"), with Vault's paths and fields:
// connection configs, dynamic roles whose credentials are leased and revoked,
// static roles whose passwords rotate on a schedule, and root rotation.
package database

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// PluginName is the only plugin_name the engine accepts.
const PluginName = "postgresql-database-plugin"

// rotationTick is how often the engine checks static roles for rotation.
const rotationTick = time.Second

// reconcileInterval is how often interrupted password changes are retried
// (the first tick after start always tries).
const reconcileInterval = 30 * time.Second

// ErrNilConfig is returned by Factory when it gets no BackendConfig.
var ErrNilConfig = errors.New("database: nil backend config")

// backend is the engine. Connection pools are opened on first use per
// config and closed when the config changes, on reset and at Cleanup.
type backend struct {
	*logical.Router
	store  storage.Backend
	log    *slog.Logger
	system logical.SystemView
	now    func() time.Time

	// mu guards pools and poolGen and is never held during I/O.
	mu    sync.Mutex
	pools map[string]*pgxpool.Pool
	// poolGen counts pool drops (config changes), so pool never caches a
	// pool built from a config read before a change.
	poolGen uint64
	// openMu serialises opening pools.
	openMu sync.Mutex

	// rotMu serialises password changes (static roles and root) with the
	// writes of the objects they change.
	rotMu sync.Mutex

	cancel context.CancelFunc
	done   chan struct{}
}

var (
	_ logical.Backend = (*backend)(nil)
	_ logical.Cleaner = (*backend)(nil)
)

// Factory builds the database engine and starts its static-role rotation
// ticker; Cleanup stops it and closes every connection pool.
func Factory(_ context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	if conf == nil {
		return nil, ErrNilConfig
	}
	return newBackend(conf, rotationTick, time.Now), nil
}

func newBackend(conf *logical.BackendConfig, tick time.Duration, now func() time.Time) *backend {
	b := &backend{store: conf.Storage, log: conf.Logger, system: conf.System, now: now,
		pools: map[string]*pgxpool.Pool{}, done: make(chan struct{})}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.system == nil {
		b.system = logical.StaticSystemView{DefaultTTL: time.Hour, MaxTTL: 24 * time.Hour}
	}
	b.Router = logical.NewRouter(b.paths()...)
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	if conf.Standby {
		// Rotations write storage and change passwords: the active node's
		// copy of this mount runs them.
		close(b.done)
		return b
	}
	go b.rotationLoop(ctx, tick)
	return b
}

func (b *backend) paths() []*logical.Path {
	var ps []*logical.Path
	ps = append(ps, b.configPaths()...)
	ps = append(ps, b.rolePaths()...)
	ps = append(ps, b.credsPaths()...)
	ps = append(ps, b.staticPaths()...)
	ps = append(ps, b.rootPaths()...)
	return ps
}

// Cleanup implements logical.Cleaner.
func (b *backend) Cleanup(context.Context) {
	b.cancel()
	<-b.done
	for _, p := range b.dropPools() {
		p.Close()
	}
}

// rotationLoop settles interrupted password changes (the rotation journal)
// and rotates static roles whose period elapsed, every tick.
func (b *backend) rotationLoop(ctx context.Context, tick time.Duration) {
	defer close(b.done)
	t := time.NewTicker(tick)
	defer t.Stop()
	var lastReconcile time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if now := time.Now(); now.Sub(lastReconcile) >= reconcileInterval {
				lastReconcile = now
				b.rotMu.Lock()
				b.reconcile(ctx)
				b.rotMu.Unlock()
			}
			b.rotateDue(ctx)
		}
	}
}
