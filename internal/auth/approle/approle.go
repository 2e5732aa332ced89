// Package approle implements Vault's AppRole auth method: named roles with a
// role ID and secret IDs that machines exchange for a token.
//
// Storage layout inside the mount's private storage view (encrypted by the
// barrier; <h(x)> is the hex HMAC-SHA256 of x under the mount's HMAC key):
//
//	hmac-key                      32 random bytes, created on first use
//	role/<name>                   a role (JSON), including its role ID and a
//	                              random uid that namespaces its secret IDs
//	role-id/<h(role id)>          {"name": <role name>}: login's index
//	secret-id/<uid>/<h(secret)>   one secret ID's settings and use count
//	accessor/<uid>/<h(accessor)>  {"secret_id_hmac": <h(secret)>}
//
// Secret IDs are never stored, only their HMACs, so a storage dump (even a
// decrypted one) does not yield a usable secret ID without the key. A
// role's uid is fresh on every creation: deleting a role and creating it
// again never revives the old role's secret IDs.
//
// Role names are lowercased, as in Vault. Writes to one role, and the use
// count of one secret ID, are serialised by striped mutexes, so a secret ID
// with num_uses=N logs in exactly N times however many logins race.
package approle

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

var (
	// ErrNilConfig is returned by Factory when it gets no BackendConfig.
	ErrNilConfig = errors.New("approle: nil backend config")
	// ErrCorruptEntry is returned when a stored entry does not decode.
	ErrCorruptEntry = errors.New("approle: stored entry is corrupt")
)

// errInvalidCredentials is the answer to every failed login, so a client
// cannot tell which part was wrong.
var errInvalidCredentials = logical.InvalidRequest("invalid role ID or secret ID")

// namePattern is Vault's generic name rule for role names.
const namePattern = `(?P<role_name>\w(?:[\w\-.]*\w)?)`

// lockStripes is the number of mutexes roles and secret IDs are spread over.
const lockStripes = 64

// Options tune a backend built by New. The zero value is valid.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Backend is the AppRole auth method of one mount.
type Backend struct {
	*logical.Router
	logger *slog.Logger
	now    func() time.Time
	keys   hmacKeys

	roleLocks   [lockStripes]sync.Mutex
	secretLocks [lockStripes]sync.Mutex
	// roleIDMu serialises changes of the role-id index, so two roles never
	// claim one role ID.
	roleIDMu sync.Mutex
	// tidyMu lets one tidy run at a time.
	tidyMu sync.Mutex
}

var (
	_ logical.Backend          = (*Backend)(nil)
	_ logical.ExistenceChecker = (*Backend)(nil)
	_ logical.LoginPather      = (*Backend)(nil)
)

// Factory builds the AppRole auth method for a mount.
func Factory(_ context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	return New(conf, Options{})
}

// New builds the AppRole auth method with explicit options.
func New(conf *logical.BackendConfig, opts Options) (*Backend, error) {
	if conf == nil {
		return nil, ErrNilConfig
	}
	logger, now := authutil.Logger(conf.Logger), authutil.Clock(opts.Now)
	b := &Backend{logger: logger, now: now}
	var paths []*logical.Path
	paths = append(paths, b.loginPath(), b.tidyPath())
	paths = append(paths, b.rolePaths()...)
	paths = append(paths, b.roleFieldPaths()...)
	paths = append(paths, b.secretIDPaths()...)
	b.Router = logical.NewRouter(paths...)
	return b, nil
}

// stripe picks the mutex of key among locks.
func stripe(locks *[lockStripes]sync.Mutex, key string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return &locks[h.Sum32()%lockStripes]
}

// storageOf returns the request's storage view.
func storageOf(req *logical.Request) (storage.Backend, error) {
	if req.Storage == nil {
		return nil, logical.Errorf(logical.KindInternal, "approle: request has no storage")
	}
	return req.Storage, nil
}

// newUUID returns a random (version 4) UUID, the shape of Vault's role IDs,
// secret IDs and accessors.
func newUUID() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", err
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
