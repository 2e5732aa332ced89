// Package barrier is Coffer's encryption barrier: a keyring of AES-256-GCM
// keys that encrypts every value before it reaches the physical backend.
//
// A Barrier implements storage.Backend itself: callers above it see
// plaintext, the physical backend below it holds only ciphertext.
//
// # Value layout
//
// Every value the barrier writes to the physical backend is
//
//	term (4 bytes, big endian) | version (1 byte, 0x1 = AES-256-GCM) | nonce (12 random bytes) | ciphertext || tag (16)
//
// term names the keyring key that encrypted the value. The additional
// authenticated data is the storage key (path) of the entry, so a ciphertext
// copied to another key fails to decrypt. Nonces are 96 random bits:
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
//	{"terms":[{"term":1,"key":"<base64>","install_time":"<RFC 3339>"}],"active_term":1}
//
// The active term is always the highest. Rotate writes the whole new keyring
// with a single Put before any value is encrypted under the new term; old
// terms stay in the keyring so older values remain readable.
//
// # Reserved keys
//
// "core/keyring" and every key under "core/seal/" (where the seal layer
// keeps its configuration and wrapped root key, in plaintext) are not barrier
// data: Get, Put, Delete, List and Transaction through the barrier refuse them
// with ErrReservedKey, and List does not report them (nor "core/" when it
// holds nothing else). Through the barrier, the storage.Backend contracts
// hold for the remaining keys.
//
// # Concurrency
//
// A Barrier is safe for concurrent use. Storage operations take a read lock
// only while encrypting or decrypting, never during physical I/O; Unseal,
// Seal, Rotate and ReloadKeyring take the write lock. Each term's cipher.AEAD
// is built once, when the keyring is loaded or the term is created.
package barrier
