// Package core is Coffer's request pipeline and seal state: it owns the
// barrier, the mount table, the token store and the policy store, and every
// request, from HTTP or inside the server, passes through Core.HandleRequest.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/audit"
	"github.com/cofferdev/coffer/internal/barrier"
	"github.com/cofferdev/coffer/internal/cluster"
	"github.com/cofferdev/coffer/internal/identity"
	"github.com/cofferdev/coffer/internal/lease"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/seal"
	"github.com/cofferdev/coffer/internal/seal/shamir"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/raft"
	"github.com/cofferdev/coffer/internal/token"
)

// Config holds a Core's dependencies. Physical and Factories are required.
type Config struct {
	// Physical is the storage backend; it only ever sees ciphertext and the
	// seal's own records under "core/seal/".
	Physical storage.Backend
	// StorageType is reported in seal-status ("inmem", "bolt", ...).
	StorageType string
	// Seal is an auto seal (static, pkcs11, ...); nil means Shamir.
	Seal seal.Seal
	// Factories maps engine types ("kv", "cubbyhole") to their factories.
	Factories map[string]logical.Factory
	// AuthFactories maps auth method types ("userpass", "approle") to theirs.
	AuthFactories map[string]logical.Factory
	Logger        *slog.Logger
	// DefaultLeaseTTL and MaxLeaseTTL are the system-wide TTLs (768h if zero).
	DefaultLeaseTTL time.Duration
	MaxLeaseTTL     time.Duration
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Audit receives every request and response; nil or sinkless means no
	// audit log.
	Audit *audit.Broker
	// AuditStatus gives the HTTP status a response will get, for audit
	// entries (the HTTP layer owns status codes).
	AuditStatus func(op logical.Operation, resp *logical.Response, err error) int
	// Network is the login lockout and address-ban guard; nil allows all.
	Network NetworkGuard
	// HA is the clustered storage's view of leadership; nil when Physical
	// is not clustered. Physical must then be the same cluster's storage.
	HA HA
	// APIAddr is this node's advertised API address (api_addr).
	APIAddr string
	// ClusterDir is where a clustered node keeps its cluster certificate.
	ClusterDir string
}

// Core is the server's state machine: sealed or unsealed, with the request
// pipeline running only while unsealed.
type Core struct {
	physical      storage.Backend
	storageType   string
	barrier       *barrier.Barrier
	autoSeal      seal.Seal
	factories     map[string]logical.Factory
	authFactories map[string]logical.Factory
	logger        *slog.Logger
	defaultTTL    time.Duration
	maxTTL        time.Duration
	now           func() time.Time
	audit         *audit.Broker
	auditStatus   func(logical.Operation, *logical.Response, error) int
	network       NetworkGuard

	// stateLock guards the unsealed state below. Requests take it for
	// reading; seal and unseal take it for writing.
	stateLock sync.RWMutex
	unsealed  *unsealedState

	// sealLock guards the progress of Shamir unseal, rekey and generate-root.
	sealLock sync.Mutex
	unsealer *shamir.Unsealer
	rekey    *rekeyAttempt
	genRoot  *generateRootAttempt

	clusterID   string
	clusterName string

	// ha is nil unless the storage is clustered.
	ha *haState
	// join is a join of a cluster waiting for unseal-key shares (sealLock).
	join *joinAttempt
	// challenges are the join challenges this node, as leader, handed out.
	challenges *cluster.Challenges
	// apiAddr is this node's advertised API address; clusterDir where its
	// cluster certificate is kept.
	apiAddr, clusterDir string
	// pilot runs autopilot while this node is active; nil without raft.
	pilot *pilot
	// keptCluster holds this cluster's CA and node records across a forced
	// snapshot restore, until the node is active again (sealLock).
	keptCluster map[string][]byte
}

// unsealedState is everything that exists only while the core is unsealed.
type unsealedState struct {
	system       logical.SystemView
	mounts       *mountTable
	policies     *policyStore
	tokens       *token.Store
	tokenBackend logical.Backend
	leases       *lease.Manager
	identity     *identity.Store
	// active is false on a standby node of a cluster: requests then go
	// through handleStandby and no background work runs.
	active bool
	// term is the raft term an active state was built in (see HA.Term).
	term uint64
	// background is the context of the state's background work; it ends
	// when the state stops.
	background context.Context
	// migrations holds the mount migrations started on this state, by ID.
	migrations sync.Map
	// onStop runs first when the state is torn down (autopilot's stop).
	onStop []func()
	// mountLock serialises changes to the mount table.
	mountLock sync.Mutex
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// Errors reported by the seal lifecycle.
var (
	ErrAlreadyInitialized = errors.New("core: already initialized")
	ErrBadUnsealKey       = errors.New("core: unseal failed, invalid key")
	ErrNoAttempt          = errors.New("core: no operation in progress")
	ErrBadNonce           = errors.New("core: nonce does not match the operation in progress")
)

// New builds a sealed Core.
func New(cfg Config) (*Core, error) {
	if cfg.Physical == nil {
		return nil, errors.New("core: no storage backend")
	}
	c := &Core{
		physical:      cfg.Physical,
		storageType:   cfg.StorageType,
		autoSeal:      cfg.Seal,
		factories:     cfg.Factories,
		authFactories: cfg.AuthFactories,
		logger:        cfg.Logger,
		defaultTTL:    cfg.DefaultLeaseTTL,
		maxTTL:        cfg.MaxLeaseTTL,
		now:           cfg.Now,
		audit:         cfg.Audit,
		auditStatus:   cfg.AuditStatus,
		network:       cfg.Network,
		challenges:    cluster.NewChallenges(),
		apiAddr:       cfg.APIAddr,
		clusterDir:    cfg.ClusterDir,
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.defaultTTL == 0 {
		c.defaultTTL = 768 * time.Hour
	}
	if c.maxTTL == 0 {
		c.maxTTL = 768 * time.Hour
	}
	if c.defaultTTL > c.maxTTL {
		return nil, fmt.Errorf("core: default lease TTL %s exceeds max lease TTL %s", c.defaultTTL, c.maxTTL)
	}
	var below storage.Backend = cfg.Physical
	if cfg.HA != nil {
		c.ha = newHAState(cfg.HA)
		c.ha.writable.Store(cfg.HA.IsLeader())
		below = &standbyGuard{Backend: cfg.Physical, ha: c.ha}
		if rb, ok := cfg.Physical.(*raft.Backend); ok {
			c.pilot = newPilot(c, rb)
		}
	}
	c.barrier = barrier.New(below, barrier.Options{Now: c.now})
	return c, nil
}

// Sealed reports whether the core is sealed.
func (c *Core) Sealed() bool {
	c.stateLock.RLock()
	defer c.stateLock.RUnlock()
	return c.unsealed == nil
}

// Initialized reports whether the storage holds an initialized Coffer.
func (c *Core) Initialized(ctx context.Context) (bool, error) {
	return c.barrier.Initialized(ctx)
}

// DefaultLeaseTTL implements logical.SystemView for the system as a whole.
func (c *Core) DefaultLeaseTTL() time.Duration { return c.defaultTTL }

// MaxLeaseTTL implements logical.SystemView for the system as a whole.
func (c *Core) MaxLeaseTTL() time.Duration { return c.maxTTL }

// StorageType reports the configured storage type.
func (c *Core) StorageType() string { return c.storageType }

// state returns the unsealed state with stateLock held for reading, or
// ErrSealed. The caller must call release.
func (c *Core) state() (*unsealedState, func(), error) {
	c.stateLock.RLock()
	if c.unsealed == nil {
		c.stateLock.RUnlock()
		return nil, nil, logical.ErrSealed
	}
	return c.unsealed, c.stateLock.RUnlock, nil
}
