package transit

import (
	"context"
	"crypto/hmac"
	"encoding/base64"

	"github.com/cofferdev/coffer/internal/logical"
)

var hmacItem = map[string]itemKind{"input": kindString, "reference": kindString}

func (b *Backend) hmacPaths() []*logical.Path {
	return []*logical.Path{{
		Pattern: `hmac/` + namePattern + `(?:/(?P<urlalgorithm>[^/]+))?`,
		Standby: logical.StandbyLocal,
		Fields: map[string]*logical.Field{
			"input":       {Type: logical.TypeString},
			"key_version": {Type: logical.TypeInt},
			"algorithm":   {Type: logical.TypeString, Default: "sha2-256"},
			"batch_input": {Type: logical.TypeRaw},
		},
		Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleHMAC},
		Help:       "HMAC base64 input with the named key's version HMAC key.",
	}}
}

// algorithmOf returns the algorithm from the URL, else from the field.
func algorithmOf(d *logical.FieldData, field string) string {
	if a := d.String("urlalgorithm"); a != "" {
		return a
	}
	return d.String(field)
}

func (b *Backend) handleHMAC(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	alg, err := hashAlgorithm(algorithmOf(d, "algorithm"))
	if err != nil {
		return nil, err
	}
	items, batch, err := requestItems(d, hmacItem)
	if err != nil {
		return nil, err
	}
	p, err := b.store.mustGet(ctx, d.String("name"))
	if err != nil {
		return nil, err
	}
	ver := d.Int("key_version")
	switch {
	case ver == 0:
		ver = p.LatestVersion
	case ver < 0 || ver > p.LatestVersion:
		return nil, logical.InvalidRequest("invalid key version")
	case p.MinEncryptionVersion > 0 && ver < p.MinEncryptionVersion:
		return nil, logical.InvalidRequest("cannot generate HMAC: version is too old (disallowed by policy)")
	}
	k, err := p.version(ver)
	if err != nil {
		return nil, err
	}
	return runBatch(items, batch, func(it batchItem) (map[string]any, error) {
		input, err := inputOf(it, "HMAC")
		if err != nil {
			return nil, err
		}
		mac := hmac.New(alg.new, k.HMACKey)
		mac.Write(input)
		return map[string]any{"hmac": formatCiphertext(ver, mac.Sum(nil))}, nil
	})
}

// inputOf decodes an item's base64 input.
func inputOf(it batchItem, what string) ([]byte, error) {
	s, ok := it.str("input")
	if !ok {
		return nil, logical.InvalidRequest("missing input for %s", what)
	}
	input, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, logical.InvalidRequest("unable to decode input as base64")
	}
	return input, nil
}

// verifyHMAC checks a "vault:v<N>:<base64>" HMAC in constant time.
func verifyHMAC(p *policy, alg hashAlg, input []byte, given string) (bool, error) {
	ver, body, err := splitVersioned("HMAC", given)
	if err != nil {
		return false, err
	}
	mac, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return false, logical.InvalidRequest("unable to decode verification HMAC as base64")
	}
	switch {
	case ver > p.LatestVersion:
		return false, logical.InvalidRequest("invalid HMAC: version is too new")
	case p.MinDecryptionVersion > 0 && ver < p.MinDecryptionVersion:
		return false, logical.InvalidRequest("cannot verify HMAC: version is too old (disallowed by policy)")
	}
	k, err := p.version(ver)
	if err != nil {
		return false, err
	}
	h := hmac.New(alg.new, k.HMACKey)
	h.Write(input)
	return hmac.Equal(h.Sum(nil), mac), nil
}
