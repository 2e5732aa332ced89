package logical

import (
	"context"
	"log/slog"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// SystemView is what a backend may ask the core about its environment.
type SystemView interface {
	// DefaultLeaseTTL is the mount's default TTL (or the system default).
	DefaultLeaseTTL() time.Duration
	// MaxLeaseTTL is the mount's maximum TTL (or the system maximum).
	MaxLeaseTTL() time.Duration
}

// PasswordGenerator is implemented by system views that can generate a
// password from a named password policy (sys/policies/password).
type PasswordGenerator interface {
	GeneratePassword(ctx context.Context, policy string) (string, error)
}

// BackendConfig is handed to a Factory when a mount is created or the core
// unseals.
type BackendConfig struct {
	Logger *slog.Logger
	// Storage is the mount's private view of the barrier; requests carry the
	// same view in Request.Storage.
	Storage storage.Backend
	// MountPath is the mount point, e.g. "secret/".
	MountPath string
	// Options are the mount's options, e.g. {"version": "2"} for KV v2.
	Options map[string]string
	System  SystemView
	// Standby is true when the backend is built on a standby node of a
	// cluster: it must not start background work that writes storage. The
	// core builds it again when the node becomes the active node.
	Standby bool
}

// Factory builds a backend for a mount.
type Factory func(ctx context.Context, conf *BackendConfig) (Backend, error)

// StaticSystemView is a SystemView with fixed values, for tests and defaults.
type StaticSystemView struct {
	DefaultTTL time.Duration
	MaxTTL     time.Duration
}

// DefaultLeaseTTL implements SystemView.
func (s StaticSystemView) DefaultLeaseTTL() time.Duration { return s.DefaultTTL }

// MaxLeaseTTL implements SystemView.
func (s StaticSystemView) MaxLeaseTTL() time.Duration { return s.MaxTTL }
