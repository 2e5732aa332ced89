package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
)

// hasherPool reuses HMAC-SHA256 states keyed with the store's key, so
// hashing a token on every request allocates no hash state. hmac's Reset
// returns a state to just after keying, so a reused state hashes exactly
// like a fresh one.
type hasherPool struct {
	pool sync.Pool
}

func newHasherPool(key []byte) *hasherPool {
	k := append([]byte(nil), key...)
	return &hasherPool{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, k) }}}
}

// hash returns the hex HMAC-SHA256 of raw, equal to hashToken(key, raw).
func (p *hasherPool) hash(raw string) string {
	h := p.pool.Get().(hash.Hash)
	h.Reset()
	_, _ = h.Write([]byte(raw)) // hash.Hash.Write never fails
	var sum [sha256.Size]byte
	out := hex.EncodeToString(h.Sum(sum[:0]))
	p.pool.Put(h)
	return out
}
