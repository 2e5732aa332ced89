package transit

import (
	"crypto"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// hmacKeySize is the size of every version's HMAC key, as in Vault.
const hmacKeySize = 32

// keyVersion is one version of a key. It is immutable once published.
type keyVersion struct {
	// Key is the AEAD key, or the 64-byte ed25519 private key.
	Key []byte `json:"key,omitempty"`
	// PrivateDER is the PKCS#8 DER private key of ecdsa and rsa versions.
	PrivateDER []byte `json:"private_der,omitempty"`
	// HMACKey is the version's key for hmac/ and convergent nonces of
	// non-derived use; 32 random bytes.
	HMACKey []byte `json:"hmac_key"`
	// PublicKey is the formatted public key: base64 for ed25519, PEM
	// (PKIX) for ecdsa and rsa.
	PublicKey    string    `json:"public_key,omitempty"`
	CreationTime time.Time `json:"creation_time"`

	// signer is the parsed private key of asymmetric versions, set by
	// prepare and never serialised; nil for public-key-only versions,
	// whose parsed public key is pub.
	signer crypto.Signer
	pub    crypto.PublicKey
	// aead is the cipher of a symmetric version's own key, built on first
	// use by policy.cipherFor and never serialised.
	aead atomic.Pointer[cipher.AEAD]
}

// String implements fmt.Stringer so key material never reaches a log.
func (*keyVersion) String() string { return "[REDACTED]" }

// LogValue implements slog.LogValuer.
func (*keyVersion) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// policy is a named key with all its live versions: Vault calls it a policy.
// A published *policy is never modified; writers change a clone.
type policy struct {
	Name                 string              `json:"name"`
	Type                 keyType             `json:"type"`
	Derived              bool                `json:"derived"`
	ConvergentEncryption bool                `json:"convergent_encryption"`
	Exportable           bool                `json:"exportable"`
	AllowPlaintextBackup bool                `json:"allow_plaintext_backup"`
	DeletionAllowed      bool                `json:"deletion_allowed"`
	LatestVersion        int                 `json:"latest_version"`
	MinDecryptionVersion int                 `json:"min_decryption_version"`
	MinEncryptionVersion int                 `json:"min_encryption_version"`
	MinAvailableVersion  int                 `json:"min_available_version"`
	AutoRotatePeriod     time.Duration       `json:"auto_rotate_period"`
	Keys                 map[int]*keyVersion `json:"keys"`
	BackupTime           time.Time           `json:"backup_time,omitzero"`
	// Imported is set on a key created by import (BYOK); such a key
	// rotates here only with AllowImportedKeyRotation, and takes more
	// imported versions until it first does (RotatedHere).
	Imported                 bool `json:"imported_key,omitempty"`
	AllowImportedKeyRotation bool `json:"allow_imported_key_rotation,omitempty"`
	RotatedHere              bool `json:"rotated_here,omitempty"`
}

// String implements fmt.Stringer so key material never reaches a log.
func (p *policy) String() string { return "transit key " + p.Name + " [REDACTED]" }

// LogValue implements slog.LogValuer.
func (p *policy) LogValue() slog.Value { return slog.StringValue(p.String()) }

// clone returns a copy whose fields and version map may be changed; the
// versions themselves are shared (they are immutable).
func (p *policy) clone() *policy {
	c := *p
	c.Keys = make(map[int]*keyVersion, len(p.Keys))
	for v, k := range p.Keys {
		c.Keys[v] = k
	}
	return &c
}

// version returns version ver, which must still be stored.
func (p *policy) version(ver int) (*keyVersion, error) {
	k, ok := p.Keys[ver]
	if !ok {
		return nil, logical.InvalidRequest("no such key version")
	}
	return k, nil
}

// encryptionVersion resolves a requested key_version for encrypt, sign and
// hmac: 0 means the latest; older than min_encryption_version is refused.
func (p *policy) encryptionVersion(ver int, what string) (int, error) {
	switch {
	case ver == 0:
		return p.LatestVersion, nil
	case ver < 0:
		return 0, logical.InvalidRequest("requested version for %s is negative", what)
	case ver > p.LatestVersion:
		return 0, logical.InvalidRequest("requested version for %s is higher than the latest key version", what)
	case p.MinEncryptionVersion > 0 && ver < p.MinEncryptionVersion:
		return 0, logical.InvalidRequest("requested version for %s is less than the minimum encryption key version", what)
	}
	return ver, nil
}

// errTooOld is Vault's message for a version below min_decryption_version.
const errTooOld = "ciphertext or signature version is disallowed by policy (too old)"

// decryptionVersion checks a version taken from a ciphertext, signature or
// HMAC against the policy.
func (p *policy) decryptionVersion(ver int) error {
	switch {
	case ver > p.LatestVersion:
		return logical.InvalidRequest("invalid ciphertext: version is too new")
	case p.MinDecryptionVersion > 0 && ver < p.MinDecryptionVersion:
		return logical.InvalidRequest(errTooOld)
	}
	return nil
}

// rotate adds a new latest version created at now. An imported key
// rotates only if its import allowed it.
func (p *policy) rotate(now time.Time) error {
	if p.Imported && !p.AllowImportedKeyRotation {
		return logical.InvalidRequest("key %q was imported without allow_rotation: it rotates only by importing a new version (import_version)", p.Name)
	}
	k, err := newKeyVersion(p.Type, now)
	if err != nil {
		return err
	}
	p.addVersion(k)
	if p.Imported {
		p.RotatedHere = true
	}
	return nil
}

// addVersion makes k the new latest version.
func (p *policy) addVersion(k *keyVersion) {
	p.LatestVersion++
	p.Keys[p.LatestVersion] = k
	if p.MinDecryptionVersion == 0 {
		p.MinDecryptionVersion = 1
	}
}

// newKeyVersion generates fresh key material of type t.
func newKeyVersion(t keyType, now time.Time) (*keyVersion, error) {
	k := &keyVersion{HMACKey: make([]byte, hmacKeySize), CreationTime: now.UTC()}
	rand.Read(k.HMACKey)
	switch {
	case t.symmetric():
		k.Key = make([]byte, t.keySize())
		rand.Read(k.Key)
	case t == typeEd25519:
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("transit: generate ed25519 key: %w", err)
		}
		k.Key = priv
		k.PublicKey = base64.StdEncoding.EncodeToString(pub)
	case t.isECDSA():
		priv, err := ecdsa.GenerateKey(t.curve(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("transit: generate ecdsa key: %w", err)
		}
		return withPrivateKey(k, priv)
	case t.isRSA():
		priv, err := rsa.GenerateKey(rand.Reader, t.rsaBits())
		if err != nil {
			return nil, fmt.Errorf("transit: generate rsa key: %w", err)
		}
		return withPrivateKey(k, priv)
	default:
		return nil, fmt.Errorf("transit: unsupported key type %q", t)
	}
	return k, k.prepare(t)
}

// withPrivateKey stores an ecdsa or rsa private key and its PEM public key.
func withPrivateKey(k *keyVersion, priv crypto.Signer) (*keyVersion, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("transit: marshal private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, fmt.Errorf("transit: marshal public key: %w", err)
	}
	k.PrivateDER = der
	k.PublicKey = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	k.signer = priv
	return k, nil
}

// prepare parses the stored private (or, for a public-key-only version,
// public) key of an asymmetric version after decoding, and checks
// symmetric key sizes.
func (k *keyVersion) prepare(t keyType) error {
	switch {
	case t.symmetric():
		if len(k.Key) != t.keySize() {
			return ErrCorruptEntry
		}
	case k.publicOnly():
		return k.preparePublic(t)
	case t == typeEd25519:
		if len(k.Key) != ed25519.PrivateKeySize {
			return ErrCorruptEntry
		}
		k.signer = ed25519.PrivateKey(k.Key)
	default:
		priv, err := x509.ParsePKCS8PrivateKey(k.PrivateDER)
		if err != nil {
			return ErrCorruptEntry
		}
		s, ok := priv.(crypto.Signer)
		if !ok {
			return ErrCorruptEntry
		}
		k.signer = s
	}
	return nil
}
