package transit

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/keywrap"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// Bring your own key (Vault's transit import): the client wraps a fresh
// AES-256 key with the mount's RSA-4096 wrapping key (RSA-OAEP), wraps
// the key material with that AES key (RFC 5649, package keywrap), and
// sends both; the
// wrapping key's private half never leaves the mount's storage.

// wrappingKeyKey holds the mount's wrapping key (PKCS#8 DER).
const wrappingKeyKey = "wrapping_key"

// wrappingKeyBits is the wrapping key's default size, as in Vault.
const wrappingKeyBits = 4096

// ephemeralKeySize is the size of the AES key that wraps the material.
const ephemeralKeySize = 32

// maxImportCiphertext bounds the base64 ciphertext of an import: an
// RSA-4096 private key in PKCS#8 is under 2.5 KiB.
const maxImportCiphertext = 16 << 10

// wrappingKeyMu serialises the creation of wrapping keys.
var wrappingKeyMu sync.Mutex

func (b *Backend) importPaths() []*logical.Path {
	wrapped := map[string]*logical.Field{
		"ciphertext":    {Type: logical.TypeString, Description: "the wrapped ephemeral AES key (512 bytes) and the key material it wraps, base64"},
		"public_key":    {Type: logical.TypeString, Description: "PEM public key of an asymmetric key, imported without its private key (ignored when ciphertext is set)"},
		"hash_function": {Type: logical.TypeString, Default: "SHA256", Description: "RSA-OAEP hash: SHA1, SHA224, SHA256, SHA384 or SHA512"},
	}
	importFields := map[string]*logical.Field{
		"type":                   {Type: logical.TypeString, Default: string(defaultKeyType)},
		"allow_rotation":         {Type: logical.TypeBool, Description: "let the key rotate here too"},
		"derived":                {Type: logical.TypeBool},
		"convergent_encryption":  {Type: logical.TypeBool},
		"exportable":             {Type: logical.TypeBool},
		"allow_plaintext_backup": {Type: logical.TypeBool},
		"auto_rotate_period":     {Type: logical.TypeDuration},
		"context":                {Type: logical.TypeString},
	}
	for k, f := range wrapped {
		importFields[k] = f
	}
	return []*logical.Path{
		{
			Pattern:    `wrapping_key`,
			Operations: map[logical.Operation]logical.Handler{logical.ReadOperation: b.handleWrappingKey},
			Help:       "The RSA-4096 public key to wrap imported keys with (made on first use).",
		},
		{
			Pattern:    `keys/` + namePattern + `/import`,
			Fields:     importFields,
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleImport},
			Help:       "Create a key from wrapped key material.",
		},
		{
			Pattern:    `keys/` + namePattern + `/import_version`,
			Fields:     wrapped,
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleImportVersion},
			Help:       "Add wrapped key material as the new latest version of an imported key.",
		},
	}
}

func (b *Backend) handleWrappingKey(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	priv, err := b.wrappingKey(ctx, req.Storage, true)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("transit: marshal wrapping key: %w", err)
	}
	return logical.DataResponse(map[string]any{
		"public_key": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
	}), nil
}

// wrappingKey loads the mount's wrapping key, creating it if create is set
// and there is none yet.
func (b *Backend) wrappingKey(ctx context.Context, s storage.Backend, create bool) (*rsa.PrivateKey, error) {
	load := func() (*rsa.PrivateKey, error) {
		e, err := s.Get(ctx, wrappingKeyKey)
		if err != nil {
			return nil, err
		}
		k, err := x509.ParsePKCS8PrivateKey(e.Value)
		priv, ok := k.(*rsa.PrivateKey)
		if err != nil || !ok {
			return nil, ErrCorruptEntry
		}
		return priv, nil
	}
	priv, err := load()
	if !errors.Is(err, storage.ErrNotFound) {
		return priv, err
	}
	if !create {
		return nil, logical.InvalidRequest("this mount has no wrapping key yet: read wrapping_key, wrap the key with it, and import again")
	}
	wrappingKeyMu.Lock()
	defer wrappingKeyMu.Unlock()
	if priv, err := load(); !errors.Is(err, storage.ErrNotFound) {
		return priv, err
	}
	if priv, err = rsa.GenerateKey(rand.Reader, b.wrapBits); err != nil {
		return nil, fmt.Errorf("transit: generate wrapping key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("transit: marshal wrapping key: %w", err)
	}
	if err := s.Put(ctx, &storage.Entry{Key: wrappingKeyKey, Value: der}); err != nil {
		return nil, fmt.Errorf("transit: store wrapping key: %w", err)
	}
	return priv, nil
}

// oaepHash parses an import's hash_function, with or without the dash
// ("SHA256", "SHA-256").
func oaepHash(name string) (func() hash.Hash, error) {
	switch strings.ReplaceAll(strings.ToUpper(name), "-", "") {
	case "SHA1":
		return crypto.SHA1.New, nil
	case "SHA224":
		return crypto.SHA224.New, nil
	case "", "SHA256":
		return crypto.SHA256.New, nil
	case "SHA384":
		return crypto.SHA384.New, nil
	case "SHA512":
		return crypto.SHA512.New, nil
	}
	return nil, logical.InvalidRequest("unsupported hash_function %q: want SHA1, SHA224, SHA256, SHA384 or SHA512", name)
}

// unwrapImport opens an import's ciphertext with the mount's wrapping key
// and returns the key material.
func (b *Backend) unwrapImport(ctx context.Context, s storage.Backend, d *logical.FieldData) ([]byte, error) {
	newHash, err := oaepHash(d.String("hash_function"))
	if err != nil {
		return nil, err
	}
	b64 := d.String("ciphertext")
	if len(b64) > maxImportCiphertext {
		return nil, logical.InvalidRequest("ciphertext is larger than %d bytes", maxImportCiphertext)
	}
	ct, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, logical.InvalidRequest("ciphertext is not base64")
	}
	priv, err := b.wrappingKey(ctx, s, false)
	if err != nil {
		return nil, err
	}
	size := priv.Size()
	if len(ct) < size+16 {
		return nil, logical.InvalidRequest("ciphertext is too short: want the %d-byte wrapped AES key followed by the wrapped key material", size)
	}
	ephemeral, err := rsa.DecryptOAEP(newHash(), nil, priv, ct[:size], nil)
	if err != nil {
		return nil, logical.InvalidRequest("the wrapped AES key does not open with this mount's wrapping key and hash_function")
	}
	defer clear(ephemeral)
	if len(ephemeral) != ephemeralKeySize {
		return nil, logical.InvalidRequest("the wrapped AES key is %d bytes; want %d", len(ephemeral), ephemeralKeySize)
	}
	material, err := keywrap.Unwrap(ephemeral, ct[size:])
	if err != nil {
		return nil, logical.InvalidRequest("%v", err)
	}
	return material, nil
}

// importedVersion makes a key version of type t from imported material:
// the raw key of a symmetric type, a PKCS#8 private key of an asymmetric
// one. material is cleared.
func importedVersion(t keyType, material []byte, now time.Time) (*keyVersion, error) {
	defer clear(material)
	k := &keyVersion{HMACKey: make([]byte, hmacKeySize), CreationTime: now.UTC()}
	rand.Read(k.HMACKey)
	if t.symmetric() {
		if len(material) != t.keySize() {
			return nil, logical.InvalidRequest("a %s key is %d bytes; the imported key is %d", t, t.keySize(), len(material))
		}
		k.Key = append([]byte(nil), material...)
		return k, k.prepare(t)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(material)
	if err != nil {
		return nil, logical.InvalidRequest("a %s key is imported as a PKCS#8 private key; this one does not parse", t)
	}
	mismatch := logical.InvalidRequest("the imported private key is not a %s key", t)
	switch priv := parsed.(type) {
	case ed25519.PrivateKey:
		if t != typeEd25519 {
			return nil, mismatch
		}
		k.Key = append([]byte(nil), priv...)
		k.PublicKey = base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
		return k, k.prepare(t)
	case *ecdsa.PrivateKey:
		if !t.isECDSA() || priv.Curve != t.curve() {
			return nil, mismatch
		}
		return withPrivateKey(k, priv)
	case *rsa.PrivateKey:
		if !t.isRSA() || priv.N.BitLen() != t.rsaBits() {
			return nil, mismatch
		}
		if err := priv.Validate(); err != nil {
			return nil, logical.InvalidRequest("the imported RSA key is not valid")
		}
		return withPrivateKey(k, priv)
	}
	return nil, mismatch
}

// importMaterial makes the key version an import request carries: the
// wrapped key material in ciphertext, or else a public key alone.
func (b *Backend) importMaterial(ctx context.Context, s storage.Backend, d *logical.FieldData, t keyType) (*keyVersion, error) {
	if d.String("ciphertext") == "" {
		if pub := d.String("public_key"); pub != "" {
			return publicVersion(t, pub, b.now())
		}
		return nil, logical.InvalidRequest("missing ciphertext (wrapped key material) or public_key")
	}
	material, err := b.unwrapImport(ctx, s, d)
	if err != nil {
		return nil, err
	}
	return importedVersion(t, material, b.now())
}

// handleImport creates a key whose version 1 is the imported material.
func (b *Backend) handleImport(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	typ, err := parseKeyType(d.String("type"))
	if err != nil {
		return nil, logical.InvalidRequest("%v", err)
	}
	if d.Bool("convergent_encryption") {
		return nil, logical.InvalidRequest("convergent encryption is not supported for imported keys")
	}
	o := keyOptions{typ: typ, derived: d.Bool("derived"), exportable: d.Bool("exportable"),
		backup: d.Bool("allow_plaintext_backup"), autoRotatePeriod: d.Duration("auto_rotate_period")}
	if err := o.check(); err != nil {
		return nil, err
	}
	allowRotation := d.Bool("allow_rotation")
	if o.autoRotatePeriod > 0 && !allowRotation {
		return nil, logical.InvalidRequest("auto_rotate_period needs allow_rotation: an imported key rotates here only if allowed")
	}
	name := d.String("name")
	if cur, err := b.store.get(ctx, name); err != nil || cur != nil {
		if err != nil {
			return nil, err
		}
		return nil, logical.InvalidRequest("key %q already exists: import a new version with keys/%s/import_version", name, name)
	}
	if d.String("ciphertext") == "" && (allowRotation || o.derived) {
		return nil, logical.InvalidRequest("a key imported from its public key can neither rotate here nor be derived: both need the private key")
	}
	k, err := b.importMaterial(ctx, req.Storage, d, typ)
	if err != nil {
		return nil, err
	}
	_, err = b.store.update(ctx, name, func(cur *policy) (*policy, error) {
		if cur != nil {
			return nil, logical.InvalidRequest("key %q already exists", name)
		}
		p := policyWith(name, o, k)
		p.Imported, p.AllowImportedKeyRotation = true, allowRotation
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return &logical.Response{NoContent: true}, nil
}

// handleImportVersion adds imported material as the new latest version of
// an imported key that has not rotated here.
func (b *Backend) handleImportVersion(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.String("name")
	cur, err := b.store.get(ctx, name)
	switch {
	case err != nil:
		return nil, err
	case cur == nil:
		return nil, logical.InvalidRequest("key %q not found: import it with keys/%s/import", name, name)
	}
	if err := importable(cur); err != nil {
		return nil, err
	}
	k, err := b.importMaterial(ctx, req.Storage, d, cur.Type)
	if err != nil {
		return nil, err
	}
	_, err = b.store.update(ctx, name, func(cur *policy) (*policy, error) {
		if cur == nil {
			return nil, logical.InvalidRequest("key %q not found", name)
		}
		if err := importable(cur); err != nil {
			return nil, err
		}
		cur.addVersion(k)
		return cur, nil
	})
	if err != nil {
		return nil, err
	}
	return &logical.Response{NoContent: true}, nil
}

// importable refuses new imported versions for keys made here, and for
// imported keys that have rotated here since (as Vault does).
func importable(p *policy) error {
	switch {
	case !p.Imported:
		return logical.InvalidRequest("key %q was generated here: only imported keys take imported versions", p.Name)
	case p.RotatedHere:
		return logical.InvalidRequest("key %q has rotated here since its import: it takes no more imported versions", p.Name)
	}
	return nil
}
