package transit

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strconv"

	"github.com/cofferdev/coffer/internal/logical"
)

// Export types, as Vault names them.
const (
	exportEncryption = "encryption-key"
	exportSigning    = "signing-key"
	exportHMAC       = "hmac-key"
	exportPublic     = "public-key"
)

func (b *Backend) exportPath() *logical.Path {
	return &logical.Path{
		Pattern:    `export/(?P<type>encryption-key|signing-key|hmac-key|public-key)/` + namePattern + `(?:/(?P<version>[^/]+))?`,
		Operations: map[logical.Operation]logical.Handler{logical.ReadOperation: b.handleExport},
		Help:       "Export key material of an exportable key (public keys of any asymmetric key).",
	}
}

func (b *Backend) handleExport(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	typ := d.String("type")
	p, err := b.store.get(ctx, d.String("name"))
	if err != nil || p == nil {
		return nil, err
	}
	switch {
	case typ != exportPublic && !p.Exportable:
		return nil, logical.InvalidRequest("private key material is not exportable")
	case typ == exportEncryption && !p.Type.supportsEncryption():
		return nil, logical.InvalidRequest("encryption not supported for the key")
	case typ == exportSigning && !p.Type.supportsSigning():
		return nil, logical.InvalidRequest("signing not supported for the key")
	case typ == exportPublic && p.Type.symmetric():
		return nil, logical.InvalidRequest("public key not available for key type %s", p.Type)
	case typ == exportPublic && p.Derived:
		return nil, logical.InvalidRequest("public key not available for derived keys")
	}
	versions, err := exportVersions(p, d.String("version"))
	if err != nil {
		return nil, err
	}
	keys := make(map[string]string, len(versions))
	for _, v := range versions {
		s, err := exportKey(p, p.Keys[v], typ)
		if err != nil {
			return nil, err
		}
		keys[strconv.Itoa(v)] = s
	}
	return logical.DataResponse(map[string]any{"name": p.Name, "type": string(p.Type), "keys": keys}), nil
}

// exportVersions resolves the version segment: empty for every stored
// version, "latest", or a number not below min_decryption_version.
func exportVersions(p *policy, s string) ([]int, error) {
	if s == "" {
		out := make([]int, 0, len(p.Keys))
		for v := range p.Keys {
			out = append(out, v)
		}
		return out, nil
	}
	if s == "latest" {
		return []int{p.LatestVersion}, nil
	}
	v, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return nil, logical.InvalidRequest("invalid key version")
	case v < p.MinDecryptionVersion:
		return nil, logical.InvalidRequest("version for export is below minimum decryption version")
	case v > p.LatestVersion:
		return nil, logical.InvalidRequest("version for export is larger than the latest key version")
	}
	if _, err := p.version(v); err != nil {
		return nil, err
	}
	return []int{v}, nil
}

// exportKey formats one version's material as Vault does: base64 for raw
// keys, PEM (SEC 1 / PKCS #1) for ecdsa and rsa private keys.
func exportKey(p *policy, k *keyVersion, typ string) (string, error) {
	switch typ {
	case exportHMAC:
		return base64.StdEncoding.EncodeToString(k.HMACKey), nil
	case exportPublic:
		return k.PublicKey, nil
	}
	if !p.Type.symmetric() && k.publicOnly() {
		return "", errPublicOnly(0, "export its private key")
	}
	if p.Type.symmetric() || p.Type == typeEd25519 {
		return base64.StdEncoding.EncodeToString(k.Key), nil
	}
	switch key := k.signer.(type) {
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return "", fmt.Errorf("transit: marshal ecdsa key: %w", err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})), nil
	case *rsa.PrivateKey:
		der := x509.MarshalPKCS1PrivateKey(key)
		return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})), nil
	}
	return "", fmt.Errorf("transit: unexpected key type %T", k.signer)
}
