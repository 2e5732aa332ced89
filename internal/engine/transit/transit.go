// Package transit implements Vault's transit secrets engine: named keys with
// versions that encrypt, decrypt, sign, verify and HMAC data for callers
// without ever handing the key material out (unless a key is exportable).
//
// Storage layout inside the mount's private storage view:
//
//	policy/<name>   one key: its configuration and every live version's
//	                material, JSON, written with one Put (atomic)
//	config/cache    the cache-config setting (JSON)
//
// Keys are cached in memory as immutable snapshots: readers take the
// current snapshot without locking it, writers (rotate, config, trim,
// delete, restore, auto-rotation) serialise on a per-name lock, build a new
// snapshot, persist it and only then publish it. Concurrent encrypt and
// rotate are therefore safe and an encrypt sees either the old or the new
// key, never a half-rotated one. On a standby node, Invalidate drops the
// snapshot of a key the active node changed.
//
// Ciphertexts are laid out as Vault lays them out: "vault:v<N>:" followed by
// standard base64 of nonce || ciphertext || tag (12-byte nonce for
// aes256-gcm96 and chacha20-poly1305), so ciphertexts made by Vault with the
// same key material decrypt here and vice versa.
//
// Key material never appears in errors or logs: key types print as
// [REDACTED], and crypto errors are reduced to fixed messages.
package transit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

var (
	// ErrNilConfig is returned by Factory when it gets no BackendConfig.
	ErrNilConfig = errors.New("transit: nil backend config")
	// ErrCorruptEntry is returned when a stored key does not decode. The
	// decoder's message is not wrapped: it could quote key material.
	ErrCorruptEntry = errors.New("transit: stored key is corrupt")
)

// DefaultRotateCheckInterval is how often the background task looks for
// keys whose auto_rotate_period has elapsed.
const DefaultRotateCheckInterval = time.Minute

// Options tune a backend built by New. The zero value is valid.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RotateCheckInterval is the auto-rotation ticker period; zero means
	// DefaultRotateCheckInterval, negative disables the ticker (tests call
	// RotateDue directly).
	RotateCheckInterval time.Duration
	// WrappingKeyBits is the size of the RSA wrapping key for imports;
	// zero means 4096, as in Vault (tests use less: 4096-bit keys are
	// slow to generate).
	WrappingKeyBits int
}

// Backend is the transit engine of one mount.
type Backend struct {
	*logical.Router
	store    *keyStore
	logger   *slog.Logger
	now      func() time.Time
	wrapBits int

	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

var (
	_ logical.Backend          = (*Backend)(nil)
	_ logical.ExistenceChecker = (*Backend)(nil)
	_ logical.Cleaner          = (*Backend)(nil)
)

// Factory builds the transit engine for a mount and starts its
// auto-rotation ticker, stopped by Cleanup.
func Factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	return New(ctx, conf, Options{})
}

// New builds the transit engine with explicit options.
func New(_ context.Context, conf *logical.BackendConfig, opts Options) (*Backend, error) {
	if conf == nil || conf.Storage == nil {
		return nil, ErrNilConfig
	}
	logger := conf.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	b := &Backend{store: newKeyStore(conf.Storage), logger: logger, now: now, wrapBits: opts.WrappingKeyBits}
	if b.wrapBits == 0 {
		b.wrapBits = wrappingKeyBits
	}
	b.Router = logical.NewRouter(b.paths()...)
	interval := opts.RotateCheckInterval
	if interval == 0 {
		interval = DefaultRotateCheckInterval
	}
	if interval > 0 && !conf.Standby { // the active node's copy rotates keys
		rctx, cancel := context.WithCancel(context.Background())
		b.cancel, b.done = cancel, make(chan struct{})
		go b.rotateLoop(rctx, interval)
	}
	return b, nil
}

// Cleanup stops the auto-rotation ticker and waits for it to exit.
func (b *Backend) Cleanup(context.Context) {
	b.once.Do(func() {
		if b.cancel != nil {
			b.cancel()
			<-b.done
		}
	})
}

func (b *Backend) paths() []*logical.Path {
	var out []*logical.Path
	out = append(out, b.keysPaths()...)
	out = append(out, b.importPaths()...)
	out = append(out, b.encryptPaths()...)
	out = append(out, b.datakeyPath())
	out = append(out, b.hmacPaths()...)
	out = append(out, b.signPaths()...)
	out = append(out, b.exportPath())
	out = append(out, b.backupPaths()...)
	out = append(out, b.randomPaths()...)
	out = append(out, b.cacheConfigPath())
	return out
}
