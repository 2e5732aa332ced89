package barrier

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
)

// Key name encryption; the construction and its properties are described
// under "Key names" in the package doc.
const (
	// pathMACLabel and pathEncLabel are the HKDF-SHA256 info strings that
	// derive the two sub-keys from the keyring's path key (no salt: the path
	// key is uniformly random). Distinct labels give independent keys.
	pathMACLabel = "coffer barrier path mac"
	pathEncLabel = "coffer barrier path enc"

	// segmentTagSize is the synthetic IV: HMAC-SHA256 truncated to 128 bits.
	// It is both the segment's authenticator and its AES-CTR IV (one AES
	// block). Go's CTR mode increments all 128 bits, so unlike RFC 5297 no
	// bits of the tag need clearing before it is used as the counter.
	segmentTagSize = 16
)

// segmentEncoding is unpadded base64url: its alphabet (A-Z a-z 0-9 - _) has
// neither "/" nor ".", so an encrypted segment is one valid key segment.
// Strict rejects non-zero trailing bits, and openSegment checks the length,
// so every segment has exactly one accepted encoding.
var segmentEncoding = base64.RawURLEncoding.Strict()

// errSegment is wrapped under ErrDecrypt for an encrypted segment that is not
// well-formed base64url or is too short to hold a tag and one byte.
var errSegment = errors.New("malformed key segment")

// pathCipher encrypts key segments under the keyring's path key. It is
// immutable except for its cache, and shared by every keyring a Rotate
// derives from the one that loaded it.
type pathCipher struct {
	redacted
	key    *secretKey   // the path key itself, written back into the keyring
	macKey *secretKey   // HKDF(key, pathMACLabel)
	block  cipher.Block // AES-256 under HKDF(key, pathEncLabel)
	cache  *segmentCache
}

// newPathCipher derives the sub-keys from raw (KeySize bytes), which it
// copies.
func newPathCipher(raw []byte) (*pathCipher, error) {
	key, err := newSecretKey(raw)
	if err != nil {
		return nil, fmt.Errorf("path key: %w", err)
	}
	mac, err := hkdf.Key(sha256.New, key.b[:], nil, pathMACLabel, KeySize)
	if err != nil {
		return nil, fmt.Errorf("barrier: derive path mac key: %w", err)
	}
	defer clear(mac)
	enc, err := hkdf.Key(sha256.New, key.b[:], nil, pathEncLabel, KeySize)
	if err != nil {
		return nil, fmt.Errorf("barrier: derive path enc key: %w", err)
	}
	defer clear(enc)
	macKey, err := newSecretKey(mac)
	if err != nil {
		return nil, err
	}
	// The expanded AES key inside block cannot be cleared (see
	// secretKey.zero); zero drops the block instead.
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, fmt.Errorf("barrier: aes: %w", err)
	}
	return &pathCipher{key: key, macKey: macKey, block: block, cache: newSegmentCache(maxCachedSegments)}, nil
}

// sameKey reports, in constant time, whether pc and o use the same path key.
func (pc *pathCipher) sameKey(o *pathCipher) bool {
	return subtle.ConstantTimeCompare(pc.key.b[:], o.key.b[:]) == 1
}

// zero clears both keys and drops the block and the cache. The cipher is
// unusable afterwards.
func (pc *pathCipher) zero() {
	pc.key.zero()
	pc.macKey.zero()
	pc.block = nil
	pc.cache.drop()
}

// tag returns the first segmentTagSize bytes of HMAC-SHA256(macKey, s).
// hmac.New keeps its own copy of the key (its pads), which the garbage
// collector frees; only misses of the segment cache get here.
func (pc *pathCipher) tag(s []byte) []byte {
	m := hmac.New(sha256.New, pc.macKey.b[:])
	m.Write(s)
	return m.Sum(nil)[:segmentTagSize]
}

// sealSegment encrypts one non-empty segment:
//
//	base64url( tag (16) | AES-256-CTR(encKey, iv = tag) XOR s (len(s)) )
func (pc *pathCipher) sealSegment(s string) string {
	out := make([]byte, segmentTagSize+len(s))
	tag := out[:segmentTagSize]
	copy(tag, pc.tag([]byte(s)))
	// tag is also the IV: the same segment always gets the same keystream,
	// which is the point (deterministic), and two different segments get
	// different IVs unless their HMACs collide in 128 bits.
	cipher.NewCTR(pc.block, tag).XORKeyStream(out[segmentTagSize:], []byte(s))
	return segmentEncoding.EncodeToString(out)
}

// openSegment reverses sealSegment. It decrypts first and then checks the
// tag against the recomputed HMAC of the plaintext, in constant time, as SIV
// requires; a mismatch is errAuth.
func (pc *pathCipher) openSegment(enc string) (string, error) {
	raw, err := segmentEncoding.DecodeString(enc)
	// The decoder skips "\r" and "\n"; the length check refuses them.
	if err != nil || len(enc) != segmentEncoding.EncodedLen(len(raw)) {
		return "", errSegment
	}
	if len(raw) <= segmentTagSize {
		return "", errSegment
	}
	tag, ct := raw[:segmentTagSize], raw[segmentTagSize:]
	plain := make([]byte, len(ct))
	cipher.NewCTR(pc.block, tag).XORKeyStream(plain, ct)
	if subtle.ConstantTimeCompare(tag, pc.tag(plain)) != 1 {
		return "", errAuth
	}
	return string(plain), nil
}
