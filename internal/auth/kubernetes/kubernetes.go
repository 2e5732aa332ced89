// Package kubernetes implements Vault's kubernetes auth method: workloads
// log in with a service-account token, which the Kubernetes API server
// vouches for through its TokenReview API, and get the token settings of a
// role bound to service-account names and namespaces.
//
// Storage layout inside the mount's private storage view (encrypted by the
// barrier):
//
//	config        the API server's address, CA, reviewer token and PEM
//	              keys (JSON)
//	role/<name>   one role: bound names and namespaces, audience, alias
//	              name source and token_* settings (JSON)
//
// A login is checked in this order: the role exists and the client address
// is inside its token_bound_cidrs; the token's claims (read without
// verifying the signature, unless pem_keys are configured) name a service
// account the role allows and carry the role's audience; the API server's
// TokenReview authenticates the token for that audience and names the same
// namespace, name and UID. Every refusal is a plain "permission denied"; the
// reason goes to the debug log, never the token.
package kubernetes

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/logical"
)

var (
	// ErrNilConfig is returned by Factory when it gets no BackendConfig.
	ErrNilConfig = errors.New("kubernetes: nil backend config")
	// ErrCorruptEntry is returned when a stored config or role does not
	// decode.
	ErrCorruptEntry = errors.New("kubernetes: stored entry is corrupt")
	// ErrNotAuthenticated is returned by a TokenReview that did not
	// authenticate the token, or named another service account.
	ErrNotAuthenticated = errors.New("kubernetes: token not authenticated")
	// ErrReview is returned when the TokenReview call itself failed (the
	// API server was unreachable or refused the reviewer).
	ErrReview = errors.New("kubernetes: token review failed")
	// ErrBadToken is returned for a login JWT that does not parse, has no
	// service-account claims, fails its signature check or has expired.
	ErrBadToken = errors.New("kubernetes: malformed or invalid service account token")
)

// Paths of the in-pod service-account files Vault falls back to when
// kubernetes_ca_cert or token_reviewer_jwt are not set.
const (
	DefaultLocalCACertPath = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
	DefaultLocalJWTPath    = "/var/run/secrets/kubernetes.io/serviceaccount/token"
)

// Options tune a backend built by New. The zero value uses the in-pod
// default paths.
type Options struct {
	// LocalCACertPath and LocalJWTPath override the in-pod service-account
	// files; empty means the defaults above.
	LocalCACertPath string
	LocalJWTPath    string
}

// Backend is the kubernetes auth method of one mount.
type Backend struct {
	*logical.Router
	logger *slog.Logger
	opts   Options

	// mu serialises read-modify-write of roles.
	mu sync.Mutex
	// clientMu guards the HTTP client, rebuilt when the CA changes.
	clientMu sync.Mutex
	client   *http.Client
	clientCA string
}

var (
	_ logical.Backend          = (*Backend)(nil)
	_ logical.ExistenceChecker = (*Backend)(nil)
	_ logical.LoginPather      = (*Backend)(nil)
	_ logical.Cleaner          = (*Backend)(nil)
)

// Factory builds the kubernetes auth method for a mount.
func Factory(_ context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	return New(conf, Options{})
}

// New builds the kubernetes auth method with explicit options.
func New(conf *logical.BackendConfig, opts Options) (*Backend, error) {
	if conf == nil {
		return nil, ErrNilConfig
	}
	logger := authutil.Logger(conf.Logger)
	if opts.LocalCACertPath == "" {
		opts.LocalCACertPath = DefaultLocalCACertPath
	}
	if opts.LocalJWTPath == "" {
		opts.LocalJWTPath = DefaultLocalJWTPath
	}
	b := &Backend{logger: logger, opts: opts}
	b.Router = logical.NewRouter(b.configPath(), b.roleListPath(), b.rolePath(), b.loginPath())
	return b, nil
}

// Cleanup closes the idle connections to the API server.
func (b *Backend) Cleanup(context.Context) {
	b.clientMu.Lock()
	defer b.clientMu.Unlock()
	if b.client != nil {
		b.client.CloseIdleConnections()
	}
}
