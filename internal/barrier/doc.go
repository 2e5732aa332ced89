// Package barrier is Coffer's encryption barrier: a keyring of AES-256-GCM
// keys that encrypts every value, and every key name, before it reaches the
// physical backend.
//
// A Barrier implements storage.Backend itself: callers above it see
// plaintext keys and values, the physical backend below it holds only
// ciphertext, under encrypted key names.
//
// # Value layout
//
// Every value the barrier writes to the physical backend is
//
//	term (4 bytes, big endian) | version (1 byte, 0x1 = AES-256-GCM) | nonce (12 random bytes) | ciphertext || tag (16)
//
// term names the keyring key that encrypted the value. The additional
// authenticated data is the logical storage key (the plaintext path the
// caller used, not the encrypted physical key), so a ciphertext copied to
// another key fails to decrypt. Nonces are 96 random bits:
// NIST SP 800-38D bounds a key to 2^32 random-nonce encryptions, so the
// barrier counts encryptions per term (KeyStatus) and Rotate installs a new
// term long before that.
//
// # Keyring
//
// The keyring is stored at physical key "core/keyring" in the same layout,
// with term 0 and the root key as the AES-256-GCM key (AAD "core/keyring").
// Keyring terms start at 1, so term 0 never names a data key. Its plaintext is
// JSON:
//
//	{"terms":[{"term":1,"key":"<base64>","install_time":"<RFC 3339>"}],"active_term":1,"path_key":"<base64>"}
//
// The active term is always the highest. Rotate writes the whole new keyring
// with a single Put before any value is encrypted under the new term; old
// terms stay in the keyring so older values remain readable.
//
// path_key is 32 random bytes made by Initialize and never rotated: Rotate
// copies it unchanged, since a new one would rename every stored key. A
// keyring without one does not unseal (ErrDecrypt), and ReloadKeyring refuses
// a stored keyring whose path key changed (ErrPathKeyChanged).
//
// # Key names
//
// The physical backend holds no logical key in plaintext. Two sub-keys come
// from the path key by HKDF-SHA256 (RFC 5869, no salt: the path key is
// uniformly random), one per label:
//
//	macKey = HKDF-SHA256(path_key, salt = none, info = "coffer barrier path mac", 32 bytes)
//	encKey = HKDF-SHA256(path_key, salt = none, info = "coffer barrier path enc", 32 bytes)
//
// A logical key is split at "/". Each non-empty segment s (UTF-8 or any
// bytes) is encrypted with a deterministic SIV construction (Rogaway and
// Shrimpton's synthetic IV, as in RFC 5297, with HMAC as the PRF):
//
//	tag = HMAC-SHA256(macKey, s)[:16]            the synthetic IV
//	ct  = AES-256-CTR(encKey, iv = tag) XOR s     len(s) bytes; the 16-byte IV is the
//	                                              initial counter block, incremented as
//	                                              one 128-bit big-endian integer
//	enc = base64url, no padding (tag (16) | ct (len(s)))
//
// and the physical key is
//
//	"d/" | enc(s1) | "/" | enc(s2) | ... | "/" | enc(sn)
//
// Empty segments stay empty, so every "/" of the logical key, a trailing one
// included, is in the same place among the segments of the physical key.
// "d/" keeps this namespace apart from the reserved keys below, which stay in
// plaintext. Decryption base64url-decodes (strictly: one encoding per
// segment), CTR-decrypts with the tag as IV, recomputes the tag over the
// plaintext and compares it in constant time; a mismatch or malformed
// segment is ErrDecrypt. No segment is ever decrypted to an unauthenticated
// name.
//
// What this reveals, by design:
//   - Equal segments give equal ciphertexts, wherever they are: an observer
//     of the backend sees which keys share a name (every KV v2 secret's
//     "versions" folder, a mount's UUID) and how many entries each folder
//     holds, but not the names. Determinism is what lets Get and Put find a
//     key without an index; it also means there is no nonce to run out of.
//   - Segment lengths: enc is base64url of 16 + len(s) bytes, so a physical
//     key is about 4/3 of its logical key plus 22 bytes a segment (backend
//     key size limits apply to that).
//   - The folder structure: depth, and which keys share a parent. It is
//     preserved on purpose, so List(prefix) is one physical List of the
//     prefix's encrypted folder; the children's names are then decrypted
//     and sorted, since the physical order is the ciphertext order. A
//     prefix that ends inside a segment ("a/b" rather than "a/") lists the
//     folder "a/" and keeps the names that extend "b".
//   - Someone who can write the backend can move or copy whole encrypted
//     segments (they are not bound to their position), so List may show a
//     name assembled from existing ones; Get of it fails, because the
//     value's additional data is the logical key it was written under.
//
// Each keyring caches up to 16384 segments each way (plaintext to encrypted,
// and back for List), segments of up to 256 bytes, clearing a direction when
// it is full, so the segments a server uses over and over cost a map lookup.
// Seal drops the cache with the keys.
//
// # Reserved keys
//
// "core/keyring" and every key under "core/seal/" (where the seal layer
// keeps its configuration and wrapped root key, in plaintext) are physical
// keys outside "d/", not barrier data. Get, Put, Delete, List and
// Transaction through the barrier refuse these logical keys with
// ErrReservedKey, so a caller that means to reach the seal's records fails
// instead of writing an encrypted copy nobody reads. List never reports
// them (nor "core/" when it holds nothing else): it only lists "d/".
// Through the barrier, the storage.Backend contracts hold for the remaining
// keys.
//
// # Concurrency
//
// A Barrier is safe for concurrent use. Storage operations take a read lock
// only while encrypting or decrypting values and key names, never during
// physical I/O; Unseal, Seal, Rotate and ReloadKeyring take the write lock.
// Each term's cipher.AEAD, and the path key's AES block, is built once, when
// the keyring is loaded or the key is created. The segment cache has its own
// lock.
//
// # Decrypted-entry cache
//
// Get keeps up to 16384 decrypted values (32 MiB, none over 64 KiB) by
// logical key, so a hot key costs a map lookup and a copy instead of a
// physical read, a key-name HMAC and an AES-GCM open. Writes bypass and
// then drop the keys they touch (see valueCache for why readers still see
// transactions atomically); Rotate and ReloadKeyring empty it, Seal zeroes
// and empties it. It assumes every physical write goes through this
// barrier: a node whose storage changes underneath must call Invalidate
// with each changed key (DecodeKey turns a physical key back into the
// logical one), or ClearCache, or set Options.CacheEntries < 0.
package barrier
