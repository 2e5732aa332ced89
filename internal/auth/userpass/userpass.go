// Package userpass implements Vault's userpass auth method: named users with
// an argon2id-hashed password and token settings, who log in with their
// username and password.
//
// Storage layout inside the mount's private storage view (encrypted by the
// barrier):
//
//	user/<username>   one user: token_* settings and the password hash
//	                  (algorithm, parameters, salt, hash), JSON
//
// Usernames are lowercased, as in Vault. A login for a user that does not
// exist hashes the password against a dummy hash with the same parameters,
// so the response time does not tell which users exist. At most
// GOMAXPROCS hashes run at once (each needs 19 MiB); further logins wait,
// which bounds the memory a login flood can take.
package userpass

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"runtime"
	"sync"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

var (
	// ErrNilConfig is returned by Factory when it gets no BackendConfig.
	ErrNilConfig = errors.New("userpass: nil backend config")
	// ErrCorruptEntry is returned when a stored user does not decode.
	ErrCorruptEntry = errors.New("userpass: stored user is corrupt")
)

// usernamePattern is Vault's generic name rule: word characters, with '-'
// and '.' inside.
const usernamePattern = `(?P<username>\w(?:[\w\-.]*\w)?)`

// Backend is the userpass auth method of one mount.
type Backend struct {
	*logical.Router
	logger *slog.Logger
	// dummy is hashed against on logins for unknown users.
	dummy passwordHash
	// hashSlots bounds concurrent argon2 computations.
	hashSlots chan struct{}
	// mu serialises read-modify-write of user entries.
	mu sync.Mutex
}

var (
	_ logical.Backend          = (*Backend)(nil)
	_ logical.ExistenceChecker = (*Backend)(nil)
	_ logical.LoginPather      = (*Backend)(nil)
)

// Factory builds the userpass auth method for a mount.
func Factory(_ context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	return New(conf)
}

// New builds the userpass auth method; Factory is New as a logical.Factory.
func New(conf *logical.BackendConfig) (*Backend, error) {
	if conf == nil {
		return nil, ErrNilConfig
	}
	logger := authutil.Logger(conf.Logger)
	dummy := passwordHash{Alg: algArgon2id, Time: argonTime, Memory: argonMemory, Threads: argonThreads,
		Salt: make([]byte, saltLen), Hash: make([]byte, argonKeyLen)}
	if _, err := rand.Read(dummy.Salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(dummy.Hash); err != nil {
		return nil, err
	}
	b := &Backend{logger: logger, dummy: dummy, hashSlots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
	b.Router = logical.NewRouter(append(b.userPaths(), b.loginPath())...)
	return b, nil
}

// withHashSlot runs f once a hashing slot is free, or fails when ctx ends.
func (b *Backend) withHashSlot(ctx context.Context, f func()) error {
	select {
	case b.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-b.hashSlots }()
	f()
	return nil
}

// storageOf returns the request's storage view.
func storageOf(req *logical.Request) (storage.Backend, error) {
	if req.Storage == nil {
		return nil, logical.Errorf(logical.KindInternal, "userpass: request has no storage")
	}
	return req.Storage, nil
}
