package audit

import (
	"strings"
	"sync"
	"sync/atomic"
)

// maxMemoCallers bounds a callerMemo; past it the memo starts over.
const maxMemoCallers = 4096

// callerMemo holds the hashed token and accessor of recent callers, keyed
// by Caller.TokenID (the token store's keyed hash of the token, never the
// token itself). Most requests come from a few tokens and each request
// writes its caller twice (request and response entry), so this saves
// nearly every token and accessor HMAC. It holds only hashes that are
// written to the log anyway. It is safe for concurrent use.
type callerMemo struct {
	m sync.Map // token id → *callerHashes
	n atomic.Int64
}

// callerHashes are one caller's redacted token and accessor.
type callerHashes struct {
	// accessor is the plaintext accessor the hashes were made for: a hit
	// for another accessor is a miss.
	accessor string
	// token and accessorMAC are "hmac-sha256:<hex>" ("" for an empty input).
	token, accessorMAC string
}

// get returns a's hashed token and accessor, computing and remembering
// them on a miss. a.tokenID must not be empty.
func (c *callerMemo) get(h *hasher, a *Auth) *callerHashes {
	if v, ok := c.m.Load(a.tokenID); ok {
		if ch := v.(*callerHashes); ch.accessor == a.Accessor {
			return ch
		}
	}
	// Clones, so the memo never keeps the caller's strings (and entries
	// built on the stack stay there).
	ch := &callerHashes{accessor: strings.Clone(a.Accessor)}
	if a.ClientToken != "" {
		ch.token = h.mac(a.ClientToken)
	}
	if a.Accessor != "" {
		ch.accessorMAC = h.mac(a.Accessor)
	}
	if c.n.Add(1) > maxMemoCallers {
		c.m.Clear()
		c.n.Store(0)
	}
	c.m.Store(strings.Clone(a.tokenID), ch)
	return ch
}
