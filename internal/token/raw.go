package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

const (
	// ServicePrefix starts every service token, as in Vault, so clients and
	// secret scanners recognise the shape.
	ServicePrefix = "hvs."
	// randomLen is the number of base62 characters after the prefix and in
	// accessors and cubbyhole ids: 24 * log2(62) ≈ 143 bits.
	randomLen = 24
	// maxRawLen bounds the raw tokens Lookup will hash; anything longer is
	// rejected as malformed without further work.
	maxRawLen = len(ServicePrefix) + 128
	// maxAccessorLen bounds accessors accepted by LookupAccessor.
	maxAccessorLen = 64
	// hmacKeyLen is the size of the hashing key the core passes.
	hmacKeyLen = 32

	base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// randomBase62 returns n characters from crypto/rand. Bytes of 248 and above
// are rejected so each character is uniform (248 = 4 * 62).
func randomBase62(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("read random bytes: %w", err)
		}
		for _, b := range buf {
			if b >= 248 {
				continue
			}
			out = append(out, base62[b%62])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

// isBase62 reports whether s is non-empty and made only of base62 characters.
func isBase62(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// wellFormed checks a raw token's shape before it is hashed: either a
// generated "hvs." token or a custom id (see validCustomID).
func wellFormed(raw string) bool {
	if !strings.HasPrefix(raw, ServicePrefix) {
		return validCustomID(raw)
	}
	if len(raw) < len(ServicePrefix)+randomLen || len(raw) > maxRawLen {
		return false
	}
	return isBase62(raw[len(ServicePrefix):])
}

// validCustomID reports whether id may be used as a chosen token id (dev
// mode's -dev-root-token-id): 1 to 128 characters of letters, digits, "-"
// and "_". Dots are refused so a custom id never looks like a typed token.
func validCustomID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// wellFormedAccessor checks an accessor's shape before it is used as a key.
func wellFormedAccessor(acc string) bool {
	return len(acc) <= maxAccessorLen && isBase62(acc)
}

// hashToken returns the hex HMAC-SHA256 of raw under key.
func hashToken(key []byte, raw string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(raw))
	return hex.EncodeToString(m.Sum(nil))
}
