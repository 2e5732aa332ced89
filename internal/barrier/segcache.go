package barrier

import (
	"strings"
	"sync"
)

// The segment cache bounds: each direction holds at most maxCachedSegments
// entries and is cleared when full, and segments longer than
// maxCachedSegmentLen plaintext bytes are never cached (they are rare, and a
// long key would otherwise pin a lot of memory). Together they cap the cache
// at a few MiB.
const (
	maxCachedSegments   = 1 << 14
	maxCachedSegmentLen = 256
)

// segmentPair is one plaintext segment and its encrypted form.
type segmentPair struct{ plain, enc string }

// segmentCache remembers encrypted segments both ways, so the segments a
// server touches over and over ("logical", mount UUIDs, "versions", ...) cost
// a map lookup instead of an HMAC and an AES-CTR pass. It is safe for
// concurrent use. Readers hold mu's read lock for a whole key so one lookup
// of a six-segment key takes the lock once.
type segmentCache struct {
	limit int // entries per direction; maxCachedSegments outside tests

	mu  sync.RWMutex
	enc map[string]string // plaintext segment → encrypted segment
	dec map[string]string // encrypted segment → plaintext segment
}

func newSegmentCache(limit int) *segmentCache {
	return &segmentCache{limit: limit, enc: map[string]string{}, dec: map[string]string{}}
}

// add records pairs in both directions. The strings are cloned so that a
// cached segment does not keep the whole key it was cut from alive.
func (c *segmentCache) add(pairs []segmentPair) {
	if len(pairs) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.enc == nil { // dropped
		return
	}
	for _, p := range pairs {
		if len(p.plain) > maxCachedSegmentLen {
			continue
		}
		if len(c.enc) >= c.limit {
			clear(c.enc)
		}
		if len(c.dec) >= c.limit {
			clear(c.dec)
		}
		plain, enc := strings.Clone(p.plain), strings.Clone(p.enc)
		c.enc[plain] = enc
		c.dec[enc] = plain
	}
}

// drop forgets every entry for good: after drop, lookups miss and add does
// nothing. Go strings cannot be overwritten; the maps are released to the
// garbage collector.
func (c *segmentCache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.enc, c.dec = nil, nil
}

// len returns the number of entries in each direction.
func (c *segmentCache) len() (enc, dec int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.enc), len(c.dec)
}
