package transit

import (
	"context"

	"github.com/cofferdev/coffer/internal/logical"
)

var (
	signItem   = map[string]itemKind{"input": kindString, "context": kindString, "reference": kindString}
	verifyItem = map[string]itemKind{"input": kindString, "context": kindString, "reference": kindString,
		"signature": kindString, "hmac": kindString}
)

func signFields() map[string]*logical.Field {
	return map[string]*logical.Field{
		"input":                {Type: logical.TypeString},
		"context":              {Type: logical.TypeString},
		"key_version":          {Type: logical.TypeInt},
		"hash_algorithm":       {Type: logical.TypeString},
		"algorithm":            {Type: logical.TypeString},
		"prehashed":            {Type: logical.TypeBool},
		"signature_algorithm":  {Type: logical.TypeString},
		"marshaling_algorithm": {Type: logical.TypeString, Default: "asn1"},
		"salt_length":          {Type: logical.TypeString, Default: "auto"},
		"batch_input":          {Type: logical.TypeRaw},
	}
}

func (b *Backend) signPaths() []*logical.Path {
	verify := signFields()
	verify["signature"] = &logical.Field{Type: logical.TypeString}
	verify["hmac"] = &logical.Field{Type: logical.TypeString}
	return []*logical.Path{
		{
			Pattern:    `sign/` + namePattern + `(?:/(?P<urlalgorithm>[^/]+))?`,
			Standby:    logical.StandbyLocal,
			Fields:     signFields(),
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleSign},
			Help:       "Sign base64 input with the named key.",
		},
		{
			Pattern:    `verify/` + namePattern + `(?:/(?P<urlalgorithm>[^/]+))?`,
			Standby:    logical.StandbyLocal,
			Fields:     verify,
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleVerify},
			Help:       "Verify a signature or HMAC over base64 input.",
		},
	}
}

// hashName picks the hash from the URL, hash_algorithm or the older
// algorithm field, in that order, as Vault does.
func hashName(d *logical.FieldData) string {
	if a := d.String("urlalgorithm"); a != "" {
		return a
	}
	if a := d.String("hash_algorithm"); a != "" {
		return a
	}
	return d.String("algorithm")
}

func signOptionsOf(d *logical.FieldData) (signOptions, error) {
	return parseSignOptions(hashName(d), d.Bool("prehashed"), d.String("signature_algorithm"),
		d.String("marshaling_algorithm"), d.String("salt_length"))
}

func (b *Backend) handleSign(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	o, err := signOptionsOf(d)
	if err != nil {
		return nil, err
	}
	items, batch, err := requestItems(d, signItem)
	if err != nil {
		return nil, err
	}
	p, err := b.store.mustGet(ctx, d.String("name"))
	if err != nil {
		return nil, err
	}
	ver := d.Int("key_version")
	return runBatch(items, batch, func(it batchItem) (map[string]any, error) {
		input, err := inputOf(it, "signing")
		if err != nil {
			return nil, err
		}
		kctx, err := it.bytes("context")
		if err != nil {
			return nil, err
		}
		sig, used, err := p.sign(ver, kctx, input, o)
		if err != nil {
			return nil, err
		}
		return map[string]any{"signature": sig, "key_version": used}, nil
	})
}

func (b *Backend) handleVerify(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	o, err := signOptionsOf(d)
	if err != nil {
		return nil, err
	}
	items, batch, err := requestItems(d, verifyItem)
	if err != nil {
		return nil, err
	}
	p, err := b.store.mustGet(ctx, d.String("name"))
	if err != nil {
		return nil, err
	}
	return runBatch(items, batch, func(it batchItem) (map[string]any, error) {
		input, err := inputOf(it, "verification")
		if err != nil {
			return nil, err
		}
		sig, hasSig := it.str("signature")
		mac, hasMAC := it.str("hmac")
		var valid bool
		switch {
		case hasSig && hasMAC:
			return nil, logical.InvalidRequest("provide one of 'signature' or 'hmac', not both")
		case hasMAC:
			valid, err = verifyHMAC(p, o.hash, input, mac)
		case hasSig:
			kctx, cerr := it.bytes("context")
			if cerr != nil {
				return nil, cerr
			}
			valid, err = p.verify(kctx, input, sig, o)
		default:
			return nil, logical.InvalidRequest("neither a 'signature' nor an 'hmac' were given to verify")
		}
		if err != nil {
			return nil, err
		}
		return map[string]any{"valid": valid}, nil
	})
}
