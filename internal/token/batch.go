package token

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Batch tokens carry their own entry, encrypted, instead of being stored.
//
// Byte layout of a batch token:
//
//	"hvb." || base64url-nopad( nonce[12] || AES-256-GCM(key, nonce, payload JSON, aad) )
//
// key is Options.BatchKey (32 bytes, kept by the core in the barrier). The
// nonce is 12 random bytes per token: with random nonces one key may seal
// about 2^32 tokens before a collision becomes plausible, far more than
// tokens issued between key rotations. aad is batchAAD, which names the
// format version so a future layout can never be confused with this one.
// Decoding is strict: only the base64url alphabet is accepted and trailing
// bits must be zero, so every distinct string decodes to distinct bytes, and
// any change to a token fails authentication.
const (
	// BatchPrefix starts every batch token, as in Vault.
	BatchPrefix = "hvb."
	// TypeBatch is the type of tokens that are never stored.
	TypeBatch = "batch"
	// batchKeyLen is the AES-256 key size Options.BatchKey must have.
	batchKeyLen = 32
	// maxBatchLen bounds a batch token (prefix included), both at creation
	// and before Lookup decodes one: tokens travel in HTTP headers.
	maxBatchLen = 4096
	// batchAAD binds the ciphertext to this format version.
	batchAAD = "coffer batch token v1"
)

var batchEncoding = base64.RawURLEncoding.Strict()

// batchPayload is the part of an Entry a batch token carries. Short JSON
// names keep tokens short.
type batchPayload struct {
	Parent         string            `json:"p,omitempty"`
	Policies       []string          `json:"pol"`
	Meta           map[string]string `json:"m,omitempty"`
	DisplayName    string            `json:"dn"`
	CreationTime   time.Time         `json:"c"`
	TTL            time.Duration     `json:"ttl"`
	ExplicitMaxTTL time.Duration     `json:"emt,omitempty"`
	ExpireTime     time.Time         `json:"e"`
	BoundCIDRs     []netip.Prefix    `json:"cidr,omitempty"`
	Path           string            `json:"path"`
	EntityID       string            `json:"eid,omitempty"`
}

func payloadOf(e *Entry) *batchPayload {
	return &batchPayload{
		Parent: e.Parent, Policies: e.Policies, Meta: e.Meta, DisplayName: e.DisplayName,
		CreationTime: e.CreationTime, TTL: e.TTL, ExplicitMaxTTL: e.ExplicitMaxTTL,
		ExpireTime: e.ExpireTime, BoundCIDRs: e.BoundCIDRs, Path: e.Path, EntityID: e.EntityID,
	}
}

// entry rebuilds the Entry of a batch token: no hash, accessor, cubbyhole
// or uses, never renewable.
func (p *batchPayload) entry() *Entry {
	return &Entry{
		Parent: p.Parent, Policies: p.Policies, Meta: p.Meta, DisplayName: p.DisplayName,
		CreationTime: p.CreationTime, TTL: p.TTL, ExplicitMaxTTL: p.ExplicitMaxTTL,
		ExpireTime: p.ExpireTime, BoundCIDRs: p.BoundCIDRs, Path: p.Path, EntityID: p.EntityID,
		Type: TypeBatch, Orphan: p.Parent == "",
	}
}

// batchSealer seals and opens batch tokens under one key.
type batchSealer struct {
	aead cipher.AEAD
}

// newBatchSealer returns nil for an empty key (batch tokens disabled) and
// panics for a key of the wrong size, which is a wiring bug.
func newBatchSealer(key []byte) *batchSealer {
	if len(key) == 0 {
		return nil
	}
	if len(key) != batchKeyLen {
		panic(fmt.Sprintf("token: batch key must be %d bytes", batchKeyLen))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(fmt.Sprintf("token: batch key: %v", err))
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(fmt.Sprintf("token: batch key: %v", err))
	}
	return &batchSealer{aead: aead}
}

// seal returns the raw batch token for e.
func (b *batchSealer) seal(e *Entry) (string, error) {
	plain, err := json.Marshal(payloadOf(e))
	if err != nil {
		return "", fmt.Errorf("encode batch token: %w", err)
	}
	ns := b.aead.NonceSize()
	buf := make([]byte, ns, ns+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate batch token nonce: %w", err)
	}
	sealed := b.aead.Seal(buf, buf[:ns], plain, []byte(batchAAD))
	raw := BatchPrefix + batchEncoding.EncodeToString(sealed)
	if len(raw) > maxBatchLen {
		return "", fmt.Errorf("%w: batch token would be %d bytes, the limit is %d: use fewer policies or less metadata",
			ErrInvalidParams, len(raw), maxBatchLen)
	}
	return raw, nil
}

// open authenticates and decodes a raw batch token. Every failure is
// ErrInvalidToken and says nothing about the cause.
func (b *batchSealer) open(raw string) (*Entry, error) {
	body, ok := strings.CutPrefix(raw, BatchPrefix)
	if !ok || len(raw) > maxBatchLen || !isBase64URL(body) {
		return nil, ErrInvalidToken
	}
	sealed, err := batchEncoding.DecodeString(body)
	ns := b.aead.NonceSize()
	if err != nil || len(sealed) < ns+b.aead.Overhead() {
		return nil, ErrInvalidToken
	}
	plain, err := b.aead.Open(nil, sealed[:ns], sealed[ns:], []byte(batchAAD))
	if err != nil {
		return nil, ErrInvalidToken
	}
	var p batchPayload
	if err := json.Unmarshal(plain, &p); err != nil || p.ExpireTime.IsZero() {
		return nil, ErrInvalidToken
	}
	return p.entry(), nil
}

// isBase64URL reports whether s is non-empty and only holds the unpadded
// base64url alphabet (the decoder alone would skip newlines).
func isBase64URL(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validateBatch applies the rules that only batch tokens have.
func (p *CreateParams) validateBatch() error {
	switch {
	case p.ID != "":
		return fmt.Errorf("%w: batch tokens cannot have a custom id", ErrInvalidParams)
	case p.NumUses != 0:
		return fmt.Errorf("%w: batch tokens cannot have a use limit", ErrInvalidParams)
	case p.Period != 0:
		return fmt.Errorf("%w: batch tokens cannot be periodic", ErrInvalidParams)
	case p.NoExpiry:
		return fmt.Errorf("%w: batch tokens must expire", ErrInvalidParams)
	}
	for _, pol := range p.Policies {
		if strings.EqualFold(strings.TrimSpace(pol), "root") {
			return fmt.Errorf("%w: batch tokens cannot be root tokens", ErrInvalidParams)
		}
	}
	return nil
}

// createBatch issues a batch token. Nothing is written to storage: a
// parent is only read, to check it is live.
func (s *Store) createBatch(ctx context.Context, p *CreateParams) (string, *Entry, error) {
	if s.batch == nil {
		return "", nil, ErrBatchUnavailable
	}
	if err := p.validateBatch(); err != nil {
		return "", nil, err
	}
	now := s.now()
	e := newEntry(p, now)
	e.Type, e.Renewable = TypeBatch, false
	if p.Parent != nil && !p.Orphan {
		parent, err := s.loadLive(ctx, p.Parent.Hash, now)
		if err != nil {
			return "", nil, parentError(err)
		}
		linkParent(e, parent)
	}
	if err := s.setExpiry(e, p, now); err != nil {
		return "", nil, err
	}
	e.Renewable = false
	raw, err := s.batch.seal(e)
	if err != nil {
		return "", nil, err
	}
	return raw, e, nil
}

// lookupBatch opens a batch token and checks that it has not expired and
// that its parent, if any, is still live: revoking a parent thus revokes
// its batch children.
func (s *Store) lookupBatch(ctx context.Context, raw string) (*Entry, error) {
	if s.batch == nil {
		return nil, ErrInvalidToken
	}
	e, err := s.batch.open(raw)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if e.expiredAt(now) {
		return nil, ErrInvalidToken
	}
	if e.Parent != "" {
		if _, err := s.loadLive(ctx, e.Parent, now); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// LeaseOwner returns the accessor of the token whose revocation must revoke
// the leases e creates: e's own for a service token; for a batch token,
// which is never stored and so cannot be revoked with its leases, its
// parent's, as Vault does, or "" for an orphan batch token (its leases end
// with their TTL, which the core caps at the token's). A batch token whose
// parent is gone is ErrInvalidToken.
func (s *Store) LeaseOwner(ctx context.Context, e *Entry) (string, error) {
	if e.Type != TypeBatch {
		return e.Accessor, nil
	}
	if e.Parent == "" {
		return "", nil
	}
	parent, err := s.loadLive(ctx, e.Parent, s.now())
	if err != nil {
		return "", err
	}
	return parent.Accessor, nil
}
