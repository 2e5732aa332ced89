package transit

import (
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"hash"

	"github.com/cofferdev/coffer/internal/logical"
)

// hashAlg is one of Vault's hash_algorithm names.
type hashAlg struct {
	id  crypto.Hash
	new func() hash.Hash
}

// hashAlgorithm returns the hash Vault names name ("sha2-256" when empty).
func hashAlgorithm(name string) (hashAlg, error) {
	switch name {
	case "", "sha2-256":
		return hashAlg{crypto.SHA256, sha256.New}, nil
	case "sha1":
		return hashAlg{crypto.SHA1, sha1.New}, nil
	case "sha2-224":
		return hashAlg{crypto.SHA224, sha256.New224}, nil
	case "sha2-384":
		return hashAlg{crypto.SHA384, sha512.New384}, nil
	case "sha2-512":
		return hashAlg{crypto.SHA512, sha512.New}, nil
	case "sha3-224":
		return hashAlg{crypto.SHA3_224, func() hash.Hash { return sha3.New224() }}, nil
	case "sha3-256":
		return hashAlg{crypto.SHA3_256, func() hash.Hash { return sha3.New256() }}, nil
	case "sha3-384":
		return hashAlg{crypto.SHA3_384, func() hash.Hash { return sha3.New384() }}, nil
	case "sha3-512":
		return hashAlg{crypto.SHA3_512, func() hash.Hash { return sha3.New512() }}, nil
	}
	return hashAlg{}, logical.InvalidRequest("unsupported hash algorithm %s", name)
}

// sum hashes input.
func (h hashAlg) sum(input []byte) []byte {
	w := h.new()
	w.Write(input)
	return w.Sum(nil)
}
