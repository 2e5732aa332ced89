package transit

import "fmt"

// keyType is a transit key type, named as Vault names it.
type keyType string

// The supported key types.
const (
	typeAES256     keyType = "aes256-gcm96"
	typeChaCha20   keyType = "chacha20-poly1305"
	typeEd25519    keyType = "ed25519"
	typeECDSAP256  keyType = "ecdsa-p256"
	typeRSA2048    keyType = "rsa-2048"
	typeRSA4096    keyType = "rsa-4096"
	defaultKeyType         = typeAES256
)

func parseKeyType(s string) (keyType, error) {
	switch t := keyType(s); t {
	case typeAES256, typeChaCha20, typeEd25519, typeECDSAP256, typeRSA2048, typeRSA4096:
		return t, nil
	}
	return "", fmt.Errorf("unknown key type %q", s)
}

// symmetric reports whether the type is an AEAD key.
func (t keyType) symmetric() bool { return t == typeAES256 || t == typeChaCha20 }

func (t keyType) isRSA() bool { return t == typeRSA2048 || t == typeRSA4096 }

func (t keyType) supportsEncryption() bool { return t.symmetric() || t.isRSA() }

func (t keyType) supportsSigning() bool {
	return t == typeEd25519 || t == typeECDSAP256 || t.isRSA()
}

func (t keyType) supportsDerivation() bool { return t.symmetric() || t == typeEd25519 }

// rsaBits is the modulus size of an RSA type.
func (t keyType) rsaBits() int {
	if t == typeRSA4096 {
		return 4096
	}
	return 2048
}

// publicName is the "name" Vault reports for an asymmetric version.
func (t keyType) publicName() string {
	switch t {
	case typeECDSAP256:
		return "P-256"
	case typeEd25519:
		return "ed25519"
	}
	return string(t)
}
