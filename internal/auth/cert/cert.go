// Package cert implements Vault's TLS certificate auth method: clients log in
// with the certificate they presented in the TLS handshake, verified against
// the CAs (or pinned leaf certificates) an operator trusts.
//
// Storage layout inside the mount's private storage view (JSON values):
//
//	cert/<name>   a trusted certificate entry: its PEM and login constraints
//	crls/<name>   the revoked serial numbers of one CRL
//	config        the method's settings
//
// The listener only requests a client certificate; this package does all
// the verification (chain, key usage, validity period, CRLs, name
// constraints). The TLS stack has already checked that the client holds the
// certificate's private key. Failed logins get one fixed message that says
// nothing about which check failed.
package cert

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/logical"
)

// Type is the auth method type this package implements.
const Type = "cert"

var (
	// ErrNilConfig is returned by Factory when it gets no BackendConfig or
	// storage.
	ErrNilConfig = errors.New("cert: nil backend config")
	// ErrCorruptEntry is returned when a stored entry does not decode.
	ErrCorruptEntry = errors.New("cert: stored entry is corrupt")
	// ErrInvalidCertificate is the error of every refused login: a missing,
	// untrusted, expired, revoked or disallowed client certificate. Its
	// message is the one Vault sends and reveals nothing about the
	// certificate. It wraps logical.ErrPermissionDenied so callers can tell
	// a refused login from a malformed request.
	ErrInvalidCertificate = &logical.Error{Kind: logical.KindInvalidRequest,
		Msg: "invalid certificate or no client certificate supplied", Err: logical.ErrPermissionDenied}
)

// Options tune a backend built by New. The zero value is valid.
type Options struct {
	// Now is the clock used for certificate validity; nil means time.Now.
	Now func() time.Time
}

// Backend is the cert auth method of one mount.
type Backend struct {
	*logical.Router
	logger *slog.Logger
	now    func() time.Time
	// mu serialises read-modify-write updates of entries and config.
	mu sync.Mutex
}

var (
	_ logical.Backend     = (*Backend)(nil)
	_ logical.LoginPather = (*Backend)(nil)
)

// Factory builds the cert auth method for a mount.
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	return New(ctx, conf, Options{})
}

// New builds the cert auth method with explicit options.
func New(_ context.Context, conf *logical.BackendConfig, opts Options) (*Backend, error) {
	if conf == nil || conf.Storage == nil {
		return nil, ErrNilConfig
	}
	logger, now := authutil.Logger(conf.Logger), authutil.Clock(opts.Now)
	b := &Backend{logger: logger, now: now}
	b.Router = logical.NewRouter(b.paths()...)
	return b, nil
}

func (b *Backend) paths() []*logical.Path {
	return []*logical.Path{
		b.loginPath(),
		b.certsListPath(),
		b.certsPath(),
		b.crlsListPath(),
		b.crlsPath(),
		b.configPath(),
	}
}

// namePattern is Vault's generic name rule: word characters, with dots and
// dashes inside.
const namePattern = `(?P<name>\w(([\w.-]+)?\w)?)`
