package transit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"math/big"
	"strconv"

	"github.com/cofferdev/coffer/internal/logical"
)

// signOptions are sign/ and verify/ parameters shared by every item.
type signOptions struct {
	hash       hashAlg
	prehashed  bool
	sigAlg     string // rsa: "pss" (default) or "pkcs1v15"
	marshaling string // "asn1" (default) or "jws"
	saltLength int    // rsa-pss salt length
}

// scalarSize is the byte length of a scalar of key's curve: r and s each
// take that many bytes in a JWS signature (32 for P-256, 48 for P-384, 66
// for P-521).
func scalarSize(key *ecdsa.PublicKey) int { return (key.Curve.Params().BitSize + 7) / 8 }

func parseSignOptions(hashName string, prehashed bool, sigAlg, marshaling, salt string) (signOptions, error) {
	h, err := hashAlgorithm(hashName)
	if err != nil {
		return signOptions{}, err
	}
	o := signOptions{hash: h, prehashed: prehashed, sigAlg: sigAlg, marshaling: marshaling}
	switch o.sigAlg {
	case "":
		o.sigAlg = "pss"
	case "pss", "pkcs1v15":
	default:
		return o, logical.InvalidRequest("unsupported rsa signature algorithm %s", sigAlg)
	}
	switch o.marshaling {
	case "":
		o.marshaling = "asn1"
	case "asn1", "jws":
	default:
		return o, logical.InvalidRequest("invalid marshaling type %q", marshaling)
	}
	switch salt {
	case "", "auto":
		o.saltLength = rsa.PSSSaltLengthAuto
	case "hash":
		o.saltLength = rsa.PSSSaltLengthEqualsHash
	default:
		n, err := strconv.Atoi(salt)
		if err != nil || n < 0 {
			return o, logical.InvalidRequest("salt length must be \"auto\", \"hash\" or a non-negative integer")
		}
		o.saltLength = n
	}
	return o, nil
}

// digest returns what the key signs: the input itself for ed25519, else
// its hash (or the input when the caller prehashed it).
func (o signOptions) digest(t keyType, input []byte) ([]byte, error) {
	switch {
	case t == typeEd25519:
		return input, nil
	case !o.prehashed:
		return o.hash.sum(input), nil
	}
	if len(input) != o.hash.id.Size() {
		return nil, logical.InvalidRequest("prehashed input must be %d bytes for the chosen hash algorithm", o.hash.id.Size())
	}
	return input, nil
}

func (o signOptions) encode(sig []byte) string {
	if o.marshaling == "jws" {
		return base64.RawURLEncoding.EncodeToString(sig)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func (o signOptions) decode(s string) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	if o.marshaling == "jws" {
		b, err = base64.RawURLEncoding.DecodeString(s)
	} else {
		b, err = base64.StdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, logical.InvalidRequest("invalid base64 signature value")
	}
	return b, nil
}

// sign signs input with version ver (0 = latest) and returns
// "vault:v<N>:<signature>" and N.
func (p *policy) sign(ver int, kctx, input []byte, o signOptions) (string, int, error) {
	if !p.Type.supportsSigning() {
		return "", 0, logical.InvalidRequest("message signing not supported for key type %s", p.Type)
	}
	ver, err := p.encryptionVersion(ver, "signing")
	if err != nil {
		return "", 0, err
	}
	k, err := p.version(ver)
	if err != nil {
		return "", 0, err
	}
	priv, err := p.signingKey(k, ver, kctx)
	if err != nil {
		return "", 0, err
	}
	digest, err := o.digest(p.Type, input)
	if err != nil {
		return "", 0, err
	}
	var sig []byte
	switch key := priv.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(key, digest)
	case *ecdsa.PrivateKey:
		sig, err = signECDSA(key, digest, o.marshaling)
	case *rsa.PrivateKey:
		if o.sigAlg == "pkcs1v15" {
			sig, err = rsa.SignPKCS1v15(rand.Reader, key, o.hash.id, digest)
		} else {
			sig, err = rsa.SignPSS(rand.Reader, key, o.hash.id, digest, &rsa.PSSOptions{SaltLength: o.saltLength})
		}
	default:
		return "", 0, fmt.Errorf("transit: unexpected signing key type %T", priv)
	}
	if err != nil {
		return "", 0, logical.InvalidRequest("signing failed: invalid parameters for this key")
	}
	return formatVersioned(ver, o.encode(sig)), ver, nil
}

func signECDSA(key *ecdsa.PrivateKey, digest []byte, marshaling string) ([]byte, error) {
	if marshaling == "asn1" {
		return ecdsa.SignASN1(rand.Reader, key, digest)
	}
	r, s, err := ecdsa.Sign(rand.Reader, key, digest)
	if err != nil {
		return nil, err
	}
	n := scalarSize(&key.PublicKey)
	out := make([]byte, 2*n)
	r.FillBytes(out[:n])
	s.FillBytes(out[n:])
	return out, nil
}

// verify checks a "vault:v<N>:<signature>" over input.
func (p *policy) verify(kctx, input []byte, signature string, o signOptions) (bool, error) {
	if !p.Type.supportsSigning() {
		return false, logical.InvalidRequest("message verification not supported for key type %s", p.Type)
	}
	ver, body, err := splitVersioned("signature", signature)
	if err != nil {
		return false, err
	}
	if err := p.decryptionVersion(ver); err != nil {
		return false, err
	}
	sig, err := o.decode(body)
	if err != nil {
		return false, err
	}
	k, err := p.version(ver)
	if err != nil {
		return false, err
	}
	pub, err := p.verifyingKey(k, ver, kctx)
	if err != nil {
		return false, err
	}
	digest, err := o.digest(p.Type, input)
	if err != nil {
		return false, err
	}
	switch key := pub.(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(key, digest, sig), nil
	case *ecdsa.PublicKey:
		if o.marshaling == "asn1" {
			return ecdsa.VerifyASN1(key, digest, sig), nil
		}
		n := scalarSize(key)
		if len(sig) != 2*n {
			return false, nil
		}
		r := new(big.Int).SetBytes(sig[:n])
		s := new(big.Int).SetBytes(sig[n:])
		return ecdsa.Verify(key, digest, r, s), nil
	case *rsa.PublicKey:
		if o.sigAlg == "pkcs1v15" {
			return rsa.VerifyPKCS1v15(key, o.hash.id, digest, sig) == nil, nil
		}
		return rsa.VerifyPSS(key, o.hash.id, digest, sig, &rsa.PSSOptions{SaltLength: o.saltLength}) == nil, nil
	}
	return false, fmt.Errorf("transit: unexpected verifying key type %T", pub)
}

// verifyingKey returns the public key that checks version ver's
// signatures: derived from context for derived ed25519 keys.
func (p *policy) verifyingKey(k *keyVersion, ver int, kctx []byte) (crypto.PublicKey, error) {
	if p.Type == typeEd25519 && p.Derived {
		priv, err := p.signingKey(k, ver, kctx)
		if err != nil {
			return nil, err
		}
		return priv.(ed25519.PrivateKey).Public(), nil
	}
	return k.public(), nil
}
