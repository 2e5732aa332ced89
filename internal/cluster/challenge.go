package cluster

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/seal"
)

// Join challenges.
//
// A challenge is a random nonce of ChallengeSize bytes. The leader seals it
// for the joining server with AES-256-GCM:
//
//	key = HKDF-SHA256(secret = root key, salt = none, info = challengeKDFInfo, 32 bytes)
//	sealed = 0x01 | nonce (12 random bytes) | ciphertext || tag (16)
//	AAD = the joining server's ID
//
// which is seal.WrapWithKey's layout. Only a node that holds the cluster's
// root key (it was unsealed with the cluster's unseal keys, or shares its
// auto seal) can open it; the AAD binds the challenge to one server ID, so
// an answer opened for one ID is no good for another. The derived key is
// used for nothing else, so a challenge never exposes the root key or
// anything the barrier encrypts.
const (
	// ChallengeSize is the size in bytes of a challenge nonce (the answer).
	ChallengeSize = 32
	// ChallengeTTL is how long a challenge can be answered.
	ChallengeTTL = 5 * time.Minute
	// MaxChallenges bounds the outstanding challenges: the endpoint that
	// hands them out is unauthenticated.
	MaxChallenges = 64
	// challengeKDFInfo separates the challenge key from every other key
	// derived from the root key.
	challengeKDFInfo = "coffer raft bootstrap challenge v1"
)

// challengeKey derives the key that seals challenges from the root key.
func challengeKey(rootKey []byte) ([]byte, error) {
	if len(rootKey) < 16 {
		return nil, errors.New("cluster: root key is too short")
	}
	key, err := hkdf.Key(sha256.New, rootKey, nil, challengeKDFInfo, seal.KeySize)
	if err != nil {
		return nil, fmt.Errorf("cluster: derive challenge key: %w", err)
	}
	return key, nil
}

// pending is one outstanding challenge.
type pending struct {
	nonce   []byte
	expires time.Time
}

// Challenges holds the leader's outstanding join challenges, at most one per
// server ID and at most MaxChallenges in all. It is safe for concurrent use.
// The zero value is not usable; call NewChallenges.
type Challenges struct {
	mu      sync.Mutex
	pending map[string]pending
	now     func() time.Time
}

// NewChallenges returns an empty set of challenges.
func NewChallenges() *Challenges {
	return &Challenges{pending: map[string]pending{}, now: time.Now}
}

// String describes the set without its nonces.
func (c *Challenges) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("cluster.Challenges{%d outstanding}", len(c.pending))
}

// New makes a challenge for serverID, replacing any earlier one for it, and
// returns it sealed under rootKey (see the layout above). When
// MaxChallenges other challenges are live it fails with
// ErrTooManyChallenges.
func (c *Challenges) New(serverID string, rootKey []byte) (sealed []byte, err error) {
	if err := ValidateNodeID(serverID); err != nil {
		return nil, err
	}
	key, err := challengeKey(rootKey)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	nonce := make([]byte, ChallengeSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("cluster: challenge nonce: %w", err)
	}
	sealed, err = seal.WrapWithKey(key, nonce, []byte(serverID))
	if err != nil {
		return nil, fmt.Errorf("cluster: seal challenge: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if old, ok := c.pending[serverID]; ok {
		clear(old.nonce)
		delete(c.pending, serverID)
	}
	if len(c.pending) >= MaxChallenges {
		c.dropExpired(now)
	}
	if len(c.pending) >= MaxChallenges {
		return nil, ErrTooManyChallenges
	}
	c.pending[serverID] = pending{nonce: nonce, expires: now.Add(ChallengeTTL)}
	return sealed, nil
}

// dropExpired forgets the challenges that can no longer be answered.
func (c *Challenges) dropExpired(now time.Time) {
	for id, p := range c.pending {
		if !now.Before(p.expires) {
			clear(p.nonce)
			delete(c.pending, id)
		}
	}
}

// Check accepts answer if it is the nonce of serverID's live challenge. The
// challenge is used up by the call whatever its outcome, so each challenge
// gets one guess. A missing, expired or wrong answer is ErrBadAnswer; the
// comparison takes constant time.
func (c *Challenges) Check(serverID string, answer []byte) error {
	c.mu.Lock()
	p, ok := c.pending[serverID]
	delete(c.pending, serverID)
	now := c.now()
	c.mu.Unlock()
	if !ok {
		return ErrBadAnswer
	}
	defer clear(p.nonce)
	match := subtle.ConstantTimeCompare(p.nonce, answer) == 1
	if !match || !now.Before(p.expires) {
		return ErrBadAnswer
	}
	return nil
}

// OpenChallenge is the joining node's side: it opens a challenge sealed for
// serverID with the root key it holds and returns the answer to send back.
// A challenge that does not open is ErrChallenge.
func OpenChallenge(sealed []byte, rootKey []byte, serverID string) (answer []byte, err error) {
	key, err := challengeKey(rootKey)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	nonce, err := seal.UnwrapWithKey(key, sealed, []byte(serverID))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrChallenge, err)
	}
	if len(nonce) != ChallengeSize {
		return nil, fmt.Errorf("%w: the nonce is %d bytes, want %d", ErrChallenge, len(nonce), ChallengeSize)
	}
	return nonce, nil
}
