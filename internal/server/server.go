// Package server wires configuration, storage, barrier, seal, core and the
// HTTP API into a running Coffer server. It is the only place that does so.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cofferdev/coffer/internal/audit"
	"github.com/cofferdev/coffer/internal/auth/approle"
	"github.com/cofferdev/coffer/internal/auth/cert"
	"github.com/cofferdev/coffer/internal/auth/jwt"
	"github.com/cofferdev/coffer/internal/auth/kubernetes"
	"github.com/cofferdev/coffer/internal/auth/userpass"
	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/core"
	"github.com/cofferdev/coffer/internal/engine/cubbyhole"
	"github.com/cofferdev/coffer/internal/engine/database"
	"github.com/cofferdev/coffer/internal/engine/kv"
	"github.com/cofferdev/coffer/internal/engine/transit"
	"github.com/cofferdev/coffer/internal/gcfloor"
	"github.com/cofferdev/coffer/internal/httpapi"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/netctl"
	"github.com/cofferdev/coffer/internal/seal"
	"github.com/cofferdev/coffer/internal/seal/static"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/bolt"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// Options are the command-line inputs of `coffer server`.
type Options struct {
	ConfigPath       string
	Dev              bool
	DevRootTokenID   string
	DevListenAddress string
	LogLevel         string
}

// shutdownTimeout bounds how long in-flight requests may take at exit.
const shutdownTimeout = 5 * time.Second

// Factories returns the secrets engines a server can mount.
func Factories() map[string]logical.Factory {
	return map[string]logical.Factory{
		"kv": kv.Factory, "cubbyhole": cubbyhole.Factory, "transit": transit.Factory, "database": database.Factory,
	}
}

// AuthFactories returns the auth methods a server can enable.
func AuthFactories() map[string]logical.Factory {
	return map[string]logical.Factory{
		"userpass": userpass.Factory, "approle": approle.Factory, "cert": cert.Factory,
		"jwt": jwt.Factory, "oidc": jwt.Factory, "kubernetes": kubernetes.Factory,
	}
}

// Run starts the server and blocks until ctx is done or it fails.
func Run(ctx context.Context, opts Options, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(opts)
	if err != nil {
		return err
	}
	logger, err := newLogger(cfg, opts.LogLevel, stderr)
	if err != nil {
		return err
	}
	defer startGCFloor(cfg, logger).Stop()
	srv, err := Start(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer srv.Close()
	if opts.Dev {
		if err := srv.devSetup(ctx, opts.DevRootTokenID, stdout); err != nil {
			return err
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-srv.errc:
			return err
		case <-hup:
			srv.reload()
		}
	}
}

// startGCFloor applies gc_heap_floor to this process, unless GOGC in the
// environment already says how to collect.
func startGCFloor(cfg *config.Config, logger *slog.Logger) *gcfloor.Floor {
	if v, set := os.LookupEnv("GOGC"); set {
		logger.Info("server: GOGC is set; gc_heap_floor is not applied", "GOGC", v)
		return gcfloor.Start(0)
	}
	return gcfloor.Start(uint64(cfg.GCHeapFloor))
}

func loadConfig(opts Options) (*config.Config, error) {
	if opts.Dev {
		addr := opts.DevListenAddress
		if addr == "" {
			addr = "127.0.0.1:8200"
		}
		return config.DevConfig(addr), nil
	}
	if opts.ConfigPath == "" {
		return nil, errors.New("server: a -config file is required (or -dev for a throwaway dev server)")
	}
	return config.Load(opts.ConfigPath)
}

func newLogger(cfg *config.Config, override string, w io.Writer) (*slog.Logger, error) {
	level := cfg.LogLevel
	if override != "" {
		level = override
	}
	var l slog.Level
	switch strings.ToLower(level) {
	case "trace", "debug":
		l = slog.LevelDebug
	case "info", "":
		l = slog.LevelInfo
	case "warn", "warning":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		return nil, fmt.Errorf("server: unknown log level %q (trace, debug, info, warn, error)", level)
	}
	hopts := &slog.HandlerOptions{Level: l}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	}
	return slog.New(slog.NewTextHandler(w, hopts)), nil
}

// Server is a running Coffer server.
type Server struct {
	Core      *core.Core
	logger    *slog.Logger
	physical  storage.Backend
	audit     *audit.Broker
	listeners []*listener
	errc      chan error
	network   *netctl.Controls
	snapshots *raftSnapshots // scheduled raft snapshots; nil if none
	raft      *raftNode      // nil unless storage is raft
	stopHA    context.CancelFunc
}

// Start opens storage, builds the core, unseals it with an auto seal if one
// is configured, and starts the listeners.
func Start(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*Server, error) {
	s := &Server{logger: logger, errc: make(chan error, len(cfg.Listeners)*2)}
	var err error
	if cfg.Storage.Type == "raft" {
		var clusterBind string
		if len(cfg.Listeners) > 0 {
			clusterBind = cfg.Listeners[0].ClusterAddress
		}
		if s.raft, err = openRaft(cfg.Storage, cfg.ClusterAddr, clusterBind, logger); err != nil {
			return nil, err
		}
		s.physical = s.raft.backend
	} else if s.physical, err = openStorage(cfg, logger); err != nil {
		return nil, err
	}
	physical := s.physical
	autoSeal, err := openSeal(cfg.Seal)
	if err != nil {
		s.Close()
		return nil, err
	}
	if s.audit, err = openAudit(cfg.Audit, logger); err != nil {
		s.Close()
		return nil, err
	}
	if s.network, err = netctl.New(netctl.OptionsFromConfig(cfg, logger)); err != nil {
		s.Close()
		return nil, fmt.Errorf("server: network controls: %w", err)
	}
	ccfg := core.Config{
		Physical: physical, StorageType: cfg.Storage.Type, Seal: autoSeal, Factories: Factories(),
		AuthFactories: AuthFactories(),
		Logger:        logger, DefaultLeaseTTL: cfg.DefaultLeaseTTL, MaxLeaseTTL: cfg.MaxLeaseTTL,
		Audit: s.audit, AuditStatus: httpapi.AuditStatus, Network: s.network, APIAddr: cfg.APIAddr,
	}
	var fwd httpapi.Forwarder
	if s.raft != nil {
		ccfg.HA, ccfg.ClusterDir, fwd = s.raft.backend, s.raft.tlsDir, s.raft
	}
	c, err := core.New(ccfg)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Core = c
	if s.raft != nil {
		s.raft.bind(c, httpapi.New(c, httpapi.Options{Logger: logger, Peer: true}))
		haCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		s.stopHA = cancel
		go c.RunHA(haCtx)
		s.raft.startJoining(haCtx, c, logger)
	}
	if cfg.RaftSnapshot != nil && cfg.Storage.Type == "raft" {
		s.snapshots = startRaftSnapshots(c, *cfg.RaftSnapshot, logger)
	}
	if autoSeal != nil {
		if err := c.UnsealAuto(ctx); err != nil && !errors.Is(err, logical.ErrNotInitialized) {
			s.Close()
			return nil, err
		}
	}
	for _, lc := range cfg.Listeners {
		access, err := netctl.NewListener(netctl.ListenerFromConfig(lc))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("server: listener %s: %w", lc.Address, err)
		}
		api := httpapi.New(c, httpapi.Options{Logger: logger, MaxRequestSize: lc.MaxRequestSize,
			Network: s.network, Listener: access, Forwarder: fwd,
			MaxRequestDuration: lc.MaxRequestDuration})
		l, err := startListener(lc, cfg.APIAddr, api, logger, s.errc)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.listeners = append(s.listeners, l)
	}
	return s, nil
}

// Addrs returns the listeners' bound addresses (useful with port 0).
func (s *Server) Addrs() []string {
	out := make([]string, len(s.listeners))
	for i, l := range s.listeners {
		out[i] = l.addr
	}
	return out
}

func openStorage(cfg *config.Config, logger *slog.Logger) (storage.Backend, error) {
	sc := cfg.Storage
	switch sc.Type {
	case "inmem":
		return inmem.New(), nil
	case "bolt", "":
		path := sc.Options["path"]
		if path == "" {
			return nil, errors.New(`server: storage "bolt" needs a path`)
		}
		return bolt.Open(path, bolt.Options{})
	}
	return nil, fmt.Errorf("server: storage type %q is not available in this build (use \"bolt\", \"raft\" or \"inmem\")", sc.Type)
}

func openSeal(sc *config.Seal) (seal.Seal, error) {
	if sc == nil || sc.Type == "" || sc.Type == "shamir" {
		return nil, nil
	}
	switch sc.Type {
	case "static":
		return static.Load(sc.Options["key_file"])
	}
	return nil, fmt.Errorf("server: seal type %q is not available in this build (use \"shamir\" or \"static\")", sc.Type)
}

// reload re-reads TLS certificates and reopens audit files (SIGHUP).
func (s *Server) reload() {
	s.reopenAudit()
	if err := s.network.ReloadBlocklist(); err != nil {
		s.logger.Error("server: blocklist reload failed; keeping the previous list", "error", err)
	}
	for _, l := range s.listeners {
		if l.certs == nil {
			continue
		}
		if err := l.certs.reload(); err != nil {
			s.logger.Error("server: TLS certificate reload failed; keeping the old certificate", "listener", l.addr, "error", err)
			continue
		}
		s.logger.Info("server: TLS certificate reloaded", "listener", l.addr)
	}
}

// Close stops the listeners, seals the core and closes storage.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	for _, l := range s.listeners {
		l.shutdown(ctx)
	}
	if s.snapshots != nil {
		s.snapshots.stop()
	}
	if s.stopHA != nil {
		s.stopHA()
	}
	s.closeAudit()
	if s.network != nil {
		s.network.Close()
	}
	if s.Core != nil {
		s.Core.Seal(ctx)
	}
	if cl, ok := s.physical.(storage.Closer); ok {
		if err := cl.Close(); err != nil {
			s.logger.Error("server: closing storage failed", "error", err)
		}
	}
}

var _ http.Handler = (*httpapi.Handler)(nil)
