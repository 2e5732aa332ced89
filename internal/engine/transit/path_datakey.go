package transit

import (
	"context"
	"crypto/rand"
	"encoding/base64"

	"github.com/cofferdev/coffer/internal/logical"
)

func (b *Backend) datakeyPath() *logical.Path {
	return &logical.Path{
		Pattern: `datakey/(?P<plaintext>plaintext|wrapped)/` + namePattern,
		Standby: logical.StandbyLocal,
		Fields: map[string]*logical.Field{
			"context":     {Type: logical.TypeString},
			"nonce":       {Type: logical.TypeString},
			"bits":        {Type: logical.TypeInt, Default: 256},
			"key_version": {Type: logical.TypeInt},
		},
		Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleDatakey},
		Help:       "Generate a random data key, returned encrypted under the named key (and in plaintext for datakey/plaintext).",
	}
}

func (b *Backend) handleDatakey(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	bits := d.Int("bits")
	switch bits {
	case 128, 256, 512:
	default:
		return nil, logical.InvalidRequest("invalid bits value")
	}
	item := topLevelItem(d, map[string]itemKind{"context": kindString, "nonce": kindString})
	kctx, err := item.bytes("context")
	if err != nil {
		return nil, err
	}
	nonce, err := item.bytes("nonce")
	if err != nil {
		return nil, err
	}
	p, err := b.store.mustGet(ctx, d.String("name"))
	if err != nil {
		return nil, err
	}
	key := make([]byte, bits/8)
	rand.Read(key)
	ct, ver, err := p.encrypt(d.Int("key_version"), kctx, nonce, key, nil)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"ciphertext": ct, "key_version": ver}
	if d.String("plaintext") == "plaintext" {
		data["plaintext"] = base64.StdEncoding.EncodeToString(key)
	}
	return logical.DataResponse(data), nil
}
