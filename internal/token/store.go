package token

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// defaultSystemTTL is the system default and maximum token TTL when Options
// leaves them unset, as in Vault (32 days).
const defaultSystemTTL = 768 * time.Hour

// Options configure a Store. The zero value is usable.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// DefaultTTL and MaxTTL give the system default and maximum TTL; nil, or
	// a non-positive result, means 768h.
	DefaultTTL, MaxTTL func() time.Duration
	// OnRevoke is called for every revoked token before its entry is
	// deleted (the core wipes the cubbyhole and revokes leases there). An
	// error aborts that token's revocation, which can then be retried. It
	// runs under the token's lock, so it must not call back into the Store
	// for that token or its descendants.
	OnRevoke func(ctx context.Context, e *Entry) error
	// OnRenew, if set, is asked before a token is renewed, under its lock
	// (so it must not call back into the Store for it). It returns the
	// terms the token's login would get now (nil: keep the token's own),
	// or an error that refuses the renewal; the core asks the auth method
	// the token came from.
	OnRenew func(ctx context.Context, e *Entry) (*RenewTerms, error)
	// EntityForAlias, if set, returns the identity entity that has the
	// alias name on the token mount, creating it if needed (the core asks
	// the identity store). Creating a token against a role with an
	// entity_alias needs it; without it such requests are refused.
	EntityForAlias func(ctx context.Context, name string) (entityID string, err error)
	// Logger receives warnings about lazy revocation failures; nil
	// discards them.
	Logger *slog.Logger
	// CacheSize bounds the cache of decoded token entries; zero means
	// 4096 and a negative value disables the cache. The cache assumes
	// every write to the view goes through this Store or is reported to
	// it with Invalidate.
	CacheSize int
	// BatchKey is the 32-byte AES-256-GCM key batch tokens are sealed
	// under; the core keeps it in the barrier like the hashing key. Empty
	// disables batch tokens (Create answers ErrBatchUnavailable); any other
	// length is a wiring bug and makes NewStore panic.
	BatchKey []byte
}

// String keeps the batch key out of logs and error messages.
func (o Options) String() string { return "token.Options{[REDACTED]}" }

// GoString keeps the batch key out of %#v.
func (o Options) GoString() string { return o.String() }

// LogValue implements slog.LogValuer like String.
func (o Options) LogValue() slog.Value { return slog.StringValue(o.String()) }

// Store keeps tokens in a storage view, identified by keyed hashes. It is
// safe for concurrent use.
type Store struct {
	view    storage.Backend
	hmacKey []byte
	opts    Options
	logger  *slog.Logger
	locks   keyLocks
	cache   *entryCache
	hasher  *hasherPool
	batch   *batchSealer
}

// NewStore returns a Store over view. hmacKey is the 32-byte hashing key the
// core keeps in the barrier; NewStore copies it and panics if it is shorter,
// since a short key is a wiring bug, not a runtime condition. The same goes
// for Options.BatchKey, which must be empty or 32 bytes.
func NewStore(view storage.Backend, hmacKey []byte, opts Options) *Store {
	if len(hmacKey) < hmacKeyLen {
		panic(fmt.Sprintf("token: hmac key must be at least %d bytes", hmacKeyLen))
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cache := newEntryCache(opts.CacheSize)
	return &Store{
		view:    invalidatingView{Backend: view, cache: cache},
		hmacKey: append([]byte(nil), hmacKey...),
		opts:    opts,
		logger:  logger,
		cache:   cache,
		hasher:  newHasherPool(hmacKey),
		batch:   newBatchSealer(opts.BatchKey),
	}
}

func (s *Store) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

func (s *Store) defaultTTL() time.Duration { return orDefault(s.opts.DefaultTTL) }
func (s *Store) maxTTL() time.Duration     { return orDefault(s.opts.MaxTTL) }

func orDefault(f func() time.Duration) time.Duration {
	if f == nil {
		return defaultSystemTTL
	}
	if d := f(); d > 0 {
		return d
	}
	return defaultSystemTTL
}

// Lookup returns the entry of a raw token, service or batch. Unknown,
// malformed, tampered, expired and revoked tokens all give ErrInvalidToken,
// as does a batch token whose parent is no longer live; an expired service
// token found here is revoked on the spot.
func (s *Store) Lookup(ctx context.Context, raw string) (*Entry, error) {
	return s.lookupRaw(ctx, raw, false)
}

// lookupRaw finds the entry of a raw token: batch tokens are opened,
// service tokens looked up by hash. allowRevoked is as for lookupHash.
func (s *Store) lookupRaw(ctx context.Context, raw string, allowRevoked bool) (*Entry, error) {
	if strings.HasPrefix(raw, BatchPrefix) {
		return s.lookupBatch(ctx, raw)
	}
	if !wellFormed(raw) {
		return nil, ErrInvalidToken
	}
	return s.lookupHash(ctx, s.hasher.hash(raw), allowRevoked)
}

// LookupAccessor returns the entry of the token an accessor stands for, with
// the same errors as Lookup.
func (s *Store) LookupAccessor(ctx context.Context, accessor string) (*Entry, error) {
	return s.lookupAccessor(ctx, accessor, false)
}

func (s *Store) lookupAccessor(ctx context.Context, accessor string, allowRevoked bool) (*Entry, error) {
	if !wellFormedAccessor(accessor) {
		return nil, ErrInvalidToken
	}
	se, err := s.view.Get(ctx, accessorKey(accessor))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("read accessor index: %w", err)
	}
	return s.lookupHash(ctx, string(se.Value), allowRevoked)
}

// lookupHash loads a live token. allowRevoked admits a token whose last use
// is being served or whose revocation is under way, for the paths that act
// on the caller's own token.
func (s *Store) lookupHash(ctx context.Context, hash string, allowRevoked bool) (*Entry, error) {
	e, err := s.load(ctx, hash)
	if err != nil {
		return nil, err
	}
	if e.revoked() && !allowRevoked {
		return nil, ErrInvalidToken
	}
	if e.expiredAt(s.now()) {
		if e.revoked() {
			// Its revocation is under way (or being retried) already; on a
			// standby, starting another could reach OnRevoke, whose effects
			// are outside storage, without a write failing first.
			return nil, ErrInvalidToken
		}
		if err := s.Revoke(ctx, e); err != nil {
			s.logger.Warn("revoking expired token failed", "token", e, "error", err)
		}
		return nil, ErrInvalidToken
	}
	return e, nil
}

// load returns the entry of hash from the cache, or else from storage;
// a missing or mismatched entry is ErrInvalidToken. The caller owns the
// returned entry.
func (s *Store) load(ctx context.Context, hash string) (*Entry, error) {
	if hash == "" {
		return nil, ErrInvalidToken
	}
	cached, gen := s.cache.get(hash)
	if cached != nil {
		return cached, nil
	}
	e, err := s.loadStored(ctx, hash)
	if err != nil {
		return nil, err
	}
	s.cache.add(hash, e, gen)
	return e, nil
}

// loadStored reads the entry stored under hash, bypassing the cache.
func (s *Store) loadStored(ctx context.Context, hash string) (*Entry, error) {
	if hash == "" {
		return nil, ErrInvalidToken
	}
	se, err := s.view.Get(ctx, idKey(hash))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("read token: %w", err)
	}
	e, err := decodeEntry(se.Value)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(e.Hash), []byte(hash)) != 1 {
		return nil, fmt.Errorf("token entry does not match its key: %w", ErrInvalidToken)
	}
	return e, nil
}

// loadLive is load plus the revoked and expired checks, without the lazy
// revocation of lookupHash: callers hold the token's lock.
func (s *Store) loadLive(ctx context.Context, hash string, now time.Time) (*Entry, error) {
	e, err := s.load(ctx, hash)
	if err != nil {
		return nil, err
	}
	if e.revoked() || e.expiredAt(now) {
		return nil, ErrInvalidToken
	}
	return e, nil
}

// CheckCIDR returns ErrInvalidToken when e is bound to CIDRs and remote is
// not inside any of them (or is not a valid address).
func (s *Store) CheckCIDR(e *Entry, remote netip.Addr) error {
	if len(e.BoundCIDRs) == 0 {
		return nil
	}
	remote = remote.Unmap()
	if !remote.IsValid() {
		return ErrInvalidToken
	}
	for _, p := range e.BoundCIDRs {
		if p.Contains(remote) {
			return nil
		}
	}
	return ErrInvalidToken
}

// Use consumes one use of a num_uses token; tokens with unlimited uses are
// not touched. The decrement happens under the token's lock, so a token with
// n uses left serves exactly n callers however many race. last is true when
// this was the final use: the token no longer authenticates, and the caller
// revokes it once the request is done. e is not modified.
func (s *Store) Use(ctx context.Context, e *Entry) (last bool, err error) {
	if e.NumUses == 0 || e.Type == TypeBatch {
		return false, nil
	}
	unlock := s.locks.lock(e.Hash)
	defer unlock()
	cur, err := s.load(ctx, e.Hash)
	if err != nil {
		return false, err
	}
	switch {
	case cur.revoked():
		return false, fmt.Errorf("%w: %w", ErrInvalidToken, ErrTokenLimit)
	case cur.NumUses == 0:
		return false, nil
	}
	cur.NumUses--
	if cur.NumUses == 0 {
		cur.NumUses = numUsesRevoked
		last = true
	}
	b, err := cur.encode()
	if err != nil {
		return false, err
	}
	if err := s.view.Put(ctx, &storage.Entry{Key: idKey(cur.Hash), Value: b}); err != nil {
		return false, fmt.Errorf("consume token use: %w", err)
	}
	return last, nil
}

// Accessors lists the accessors of every stored token.
func (s *Store) Accessors(ctx context.Context) ([]string, error) {
	keys, err := s.view.List(ctx, accessorPrefix)
	if err != nil {
		return nil, fmt.Errorf("list accessors: %w", err)
	}
	return keys, nil
}
