// Package jwt implements Vault's JWT/OIDC auth method: logins with a signed
// JWT checked against a JWKS, an OIDC discovery document or static keys,
// and the OIDC authorization-code flow (with PKCE) for browser sign-in.
//
// One Factory serves both mount types, "jwt" and "oidc", as in Vault.
//
// Storage layout inside the mount's private storage view:
//
//	config        the method's configuration (JSON; holds the client secret,
//	              which the barrier encrypts and reads never return)
//	role/<name>   one role (JSON)
//
// Pending OIDC logins (state, nonce, PKCE verifier) live only in memory for
// StateTTL: a restart in the middle of a browser login makes the user start
// over, as with Vault.
//
// Failed logins answer 400 with a message naming the check that failed
// (issuer, audience, expiry, a bound claim by name) and never any value
// taken from the token.
package jwt

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/logical"
)

var (
	// ErrNilConfig is returned by Factory when it gets no BackendConfig.
	ErrNilConfig = errors.New("jwt: nil backend config")
	// ErrCorruptEntry is returned when a stored config or role does not
	// decode.
	ErrCorruptEntry = errors.New("jwt: stored entry is corrupt")
)

// StateTTL is how long an OIDC login started with oidc/auth_url may take
// to come back to oidc/callback.
const StateTTL = 10 * time.Minute

// maxPendingStates bounds the pending OIDC logins kept in memory: auth_url
// needs no token, so without a bound anyone could fill the memory.
const maxPendingStates = 10000

// Options tune a backend built by New. The zero value is valid.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Backend is the JWT/OIDC auth method of one mount.
type Backend struct {
	*logical.Router
	logger *slog.Logger
	now    func() time.Time
	states *stateStore

	// mu serialises building the verifier and writing the config.
	mu sync.Mutex
	// verMu guards ver and verGen and is never held during I/O, so
	// Invalidate never waits for a provider.
	verMu  sync.Mutex
	ver    *verifier // built from the stored config; nil until first needed
	verGen uint64    // bumped whenever ver is replaced or dropped
}

var (
	_ logical.Backend          = (*Backend)(nil)
	_ logical.ExistenceChecker = (*Backend)(nil)
	_ logical.LoginPather      = (*Backend)(nil)
)

// Factory builds the JWT/OIDC auth method for a mount of type "jwt" or
// "oidc".
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	return New(ctx, conf, Options{})
}

// New builds the auth method with explicit options.
func New(_ context.Context, conf *logical.BackendConfig, opts Options) (*Backend, error) {
	if conf == nil || conf.Storage == nil {
		return nil, ErrNilConfig
	}
	logger, now := authutil.Logger(conf.Logger), authutil.Clock(opts.Now)
	b := &Backend{logger: logger, now: now, states: newStateStore(now, StateTTL, maxPendingStates)}
	b.Router = logical.NewRouter(
		b.configPath(),
		b.roleListPath(),
		b.rolePath(),
		b.loginPath(),
		b.authURLPath(),
		b.callbackPath(),
	)
	return b, nil
}
