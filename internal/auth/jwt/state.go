package jwt

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// pending is one OIDC login between auth_url and callback. It holds the
// PKCE verifier and nonce, so it never leaves memory.
type pending struct {
	role        string
	redirectURI string
	nonce       string
	verifier    string
	clientNonce string
	expires     time.Time
}

// stateStore keeps pending logins by their OAuth state, each for ttl, at
// most max at once. A state is taken (removed) by its first use.
type stateStore struct {
	now func() time.Time
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[string]*pending
}

func newStateStore(now func() time.Time, ttl time.Duration, max int) *stateStore {
	return &stateStore{now: now, ttl: ttl, max: max, m: map[string]*pending{}}
}

// add stores p under a new random state and returns the state.
func (s *stateStore) add(p *pending) (string, error) {
	state := randomString()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		for k, v := range s.m {
			if now.After(v.expires) {
				delete(s.m, k)
			}
		}
	}
	if len(s.m) >= s.max {
		return "", logical.Errorf(logical.KindRateLimited, "too many pending OIDC logins; try again later")
	}
	p.expires = now.Add(s.ttl)
	s.m[state] = p
	return state, nil
}

// take removes and returns the unexpired login for state, or nil.
func (s *stateStore) take(state string) *pending {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.m[state]
	delete(s.m, state)
	if p == nil || s.now().After(p.expires) {
		return nil
	}
	return p
}

// randomString returns 32 random bytes, base64url-encoded.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
