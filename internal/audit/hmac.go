package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"sync"

	"github.com/cofferdev/coffer/internal/jsonenc"
)

// HashPrefix starts every redacted value.
const HashPrefix = "hmac-sha256:"

// hasher redacts an entry with one sink's HMAC key. A nil key (sealed)
// drops every field that would need hashing instead of writing it.
type hasher struct {
	key          []byte
	raw          bool // log_raw: write plaintext
	hashAccessor bool
	headers      []string // request headers to write
	// macs pools keyed HMAC states for key: hmac.New costs two SHA-256
	// blocks per call, Reset none.
	macs *sync.Pool
	// callers memoises the hashed token and accessor of callers by
	// Caller.TokenID; it lives and dies with key.
	callers *callerMemo
}

// macState is one pooled HMAC state with scratch space, so hashing a
// string allocates nothing.
type macState struct {
	h       hash.Hash
	scratch [256]byte
	sum     [sha256.Size]byte
}

// setKey installs key (nil wipes it) and a fresh pool of HMAC states.
func (h *hasher) setKey(key []byte) {
	clear(h.key)
	h.key, h.macs, h.callers = key, nil, nil
	if key != nil {
		h.macs = &sync.Pool{New: func() any { return &macState{h: hmac.New(sha256.New, key)} }}
		h.callers = &callerMemo{}
	}
}

// String keeps the key out of logs.
func (h *hasher) String() string { return "[REDACTED]" }

// str redacts one secret string; "" means "leave the field out".
func (h *hasher) str(s string) string {
	switch {
	case s == "" || h.raw:
		return s
	case h.key == nil:
		return ""
	}
	return h.mac(s)
}

// mac returns "hmac-sha256:<hex>" of s; the key must be set.
func (h *hasher) mac(s string) string {
	return string(h.appendMAC(nil, s))
}

// appendMAC appends "hmac-sha256:<hex>" of s; the key must be set.
func (h *hasher) appendMAC(b []byte, s string) []byte {
	m := h.macs.Get().(*macState)
	m.h.Reset()
	for len(s) > 0 {
		n := copy(m.scratch[:], s)
		m.h.Write(m.scratch[:n])
		s = s[n:]
	}
	sum := m.h.Sum(m.sum[:0])
	b = hex.AppendEncode(append(b, HashPrefix...), sum)
	h.macs.Put(m)
	return b
}

// appendSecret appends s as a JSON string, hashed unless log_raw or empty
// (as str does); the key
// must be set or raw on (callers check with canRedact).
func (h *hasher) appendSecret(b []byte, s string) []byte {
	if h.raw || s == "" {
		return jsonenc.AppendString(b, s)
	}
	return append(h.appendMAC(append(b, '"'), s), '"')
}

// canRedact reports whether secrets can be written (hashed or raw).
func (h *hasher) canRedact() bool { return h.raw || h.key != nil }

func (h *hasher) accessor(s string) string {
	if !h.hashAccessor {
		return s
	}
	return h.str(s)
}

// value redacts every string inside v; keys, numbers and booleans stay.
func (h *hasher) value(v any) any {
	switch t := v.(type) {
	case string:
		return h.str(t)
	case map[string]any:
		return h.data(t)
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = h.value(x)
		}
		return out
	case []string:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = h.str(x)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = h.str(x)
		}
		return out
	case json.Number:
		return t
	case nil, bool, float64, float32, int, int64, int32, uint, uint64, uint32:
		return t
	}
	// Anything else (json.Number, structs, times) may hold a secret in a
	// form this switch does not know: hash its printed form.
	return h.str(fmt.Sprint(v))
}

func (h *hasher) data(m map[string]any) map[string]any {
	if m == nil || (h.key == nil && !h.raw) {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = h.value(v)
	}
	return out
}

func (h *hasher) auth(a *Auth) *Auth {
	if a == nil {
		return nil
	}
	c := *a
	c.ClientToken = h.str(a.ClientToken)
	c.Accessor = h.accessor(a.Accessor)
	return &c
}

// redact returns a copy of e with every secret value hashed. e is shared by
// all sinks and is not modified.
func (h *hasher) redact(e *Entry) *Entry {
	c := *e
	c.Auth = h.auth(e.Auth)
	if e.Request != nil {
		r := *e.Request
		r.Data = h.data(e.Request.Data)
		r.Headers = h.headersOf(e.Request.Headers)
		c.Request = &r
	}
	if e.Response != nil {
		r := *e.Response
		r.Data = h.data(e.Response.Data)
		r.Auth = h.auth(e.Response.Auth)
		if wi := e.Response.WrapInfo; wi != nil {
			w := *wi
			w.Token = h.str(wi.Token)
			w.Accessor = h.accessor(wi.Accessor)
			w.WrappedAccessor = h.accessor(wi.WrappedAccessor)
			r.WrapInfo = &w
		}
		c.Response = &r
	}
	return &c
}

// headersOf keeps the configured headers of hdr, nil if none.
func (h *hasher) headersOf(hdr map[string][]string) map[string][]string {
	var out map[string][]string
	for _, name := range h.headers {
		if v, ok := hdr[name]; ok {
			if out == nil {
				out = map[string][]string{}
			}
			out[name] = v
		}
	}
	return out
}
