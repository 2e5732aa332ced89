package transit

import (
	"crypto/elliptic"
	"fmt"
)

// keyType is a transit key type, named as Vault names it.
type keyType string

// The supported key types.
const (
	typeAES128     keyType = "aes128-gcm96"
	typeAES256     keyType = "aes256-gcm96"
	typeChaCha20   keyType = "chacha20-poly1305"
	typeEd25519    keyType = "ed25519"
	typeECDSAP256  keyType = "ecdsa-p256"
	typeECDSAP384  keyType = "ecdsa-p384"
	typeECDSAP521  keyType = "ecdsa-p521"
	typeRSA2048    keyType = "rsa-2048"
	typeRSA3072    keyType = "rsa-3072"
	typeRSA4096    keyType = "rsa-4096"
	defaultKeyType         = typeAES256
)

func parseKeyType(s string) (keyType, error) {
	switch t := keyType(s); t {
	case typeAES128, typeAES256, typeChaCha20, typeEd25519, typeECDSAP256, typeECDSAP384, typeECDSAP521,
		typeRSA2048, typeRSA3072, typeRSA4096:
		return t, nil
	}
	return "", fmt.Errorf("unknown key type %q", s)
}

// symmetric reports whether the type is an AEAD key.
func (t keyType) symmetric() bool { return t == typeAES128 || t == typeAES256 || t == typeChaCha20 }

// keySize is the AEAD key size of a symmetric type: 16 bytes for
// aes128-gcm96, 32 for the others.
func (t keyType) keySize() int {
	if t == typeAES128 {
		return 16
	}
	return 32
}

func (t keyType) isRSA() bool { return t == typeRSA2048 || t == typeRSA3072 || t == typeRSA4096 }

// curve is the curve of an ECDSA type, nil for the others.
func (t keyType) curve() elliptic.Curve {
	switch t {
	case typeECDSAP256:
		return elliptic.P256()
	case typeECDSAP384:
		return elliptic.P384()
	case typeECDSAP521:
		return elliptic.P521()
	}
	return nil
}

func (t keyType) isECDSA() bool { return t.curve() != nil }

func (t keyType) supportsEncryption() bool { return t.symmetric() || t.isRSA() }

func (t keyType) supportsSigning() bool {
	return t == typeEd25519 || t.isECDSA() || t.isRSA()
}

func (t keyType) supportsDerivation() bool { return t.symmetric() || t == typeEd25519 }

// rsaBits is the modulus size of an RSA type.
func (t keyType) rsaBits() int {
	switch t {
	case typeRSA3072:
		return 3072
	case typeRSA4096:
		return 4096
	}
	return 2048
}

// publicName is the "name" Vault reports for an asymmetric version: the
// curve's name for ECDSA.
func (t keyType) publicName() string {
	if c := t.curve(); c != nil {
		return c.Params().Name
	}
	return string(t)
}
