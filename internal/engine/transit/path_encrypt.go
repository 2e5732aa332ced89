package transit

import (
	"context"
	"encoding/base64"

	"github.com/cofferdev/coffer/internal/logical"
)

var (
	encryptItem = map[string]itemKind{"plaintext": kindString, "context": kindString, "nonce": kindString,
		"key_version": kindInt, "reference": kindString, "associated_data": kindString}
	decryptItem = map[string]itemKind{"ciphertext": kindString, "context": kindString, "nonce": kindString,
		"reference": kindString, "associated_data": kindString}
	rewrapItem = map[string]itemKind{"ciphertext": kindString, "context": kindString, "nonce": kindString,
		"key_version": kindInt, "reference": kindString}
)

func (b *Backend) encryptPaths() []*logical.Path {
	common := func() map[string]*logical.Field {
		return map[string]*logical.Field{
			"context":     {Type: logical.TypeString},
			"nonce":       {Type: logical.TypeString},
			"key_version": {Type: logical.TypeInt},
			"batch_input": {Type: logical.TypeRaw},
		}
	}
	enc := common()
	enc["plaintext"] = &logical.Field{Type: logical.TypeString}
	enc["associated_data"] = &logical.Field{Type: logical.TypeString}
	enc["type"] = &logical.Field{Type: logical.TypeString, Default: string(defaultKeyType)}
	enc["convergent_encryption"] = &logical.Field{Type: logical.TypeBool}
	dec := common()
	dec["ciphertext"] = &logical.Field{Type: logical.TypeString}
	dec["associated_data"] = &logical.Field{Type: logical.TypeString}
	rew := common()
	rew["ciphertext"] = &logical.Field{Type: logical.TypeString}
	return []*logical.Path{
		{
			Pattern: `encrypt/` + namePattern,
			// Pure computation: a standby serves it (encrypt's upsert writes
			// storage first, so that request goes to the active node).
			Standby: logical.StandbyLocal,
			Fields:  enc,
			Operations: map[logical.Operation]logical.Handler{
				logical.CreateOperation: b.handleEncrypt,
				logical.UpdateOperation: b.handleEncrypt,
			},
			Existence: b.keyExists,
			Help:      "Encrypt base64 plaintext, creating the key on first use when the caller may create.",
		},
		{
			Pattern:    `decrypt/` + namePattern,
			Standby:    logical.StandbyLocal,
			Fields:     dec,
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleDecrypt},
			Help:       "Decrypt a vault:v<N>: ciphertext.",
		},
		{
			Pattern:    `rewrap/` + namePattern,
			Standby:    logical.StandbyLocal,
			Fields:     rew,
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleRewrap},
			Help:       "Re-encrypt a ciphertext under the latest (or given) key version.",
		},
	}
}

// handleEncrypt encrypts one plaintext or a batch. A missing key is created
// (upsert) only on a create operation, i.e. when the caller's policy grants
// create; it is derived when the first item has a context.
func (b *Backend) handleEncrypt(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	items, batch, err := requestItems(d, encryptItem)
	if err != nil {
		return nil, err
	}
	name := d.String("name")
	p, err := b.store.get(ctx, name)
	if err != nil {
		return nil, err
	}
	if p == nil {
		if req.Operation != logical.CreateOperation {
			return nil, logical.InvalidRequest("encryption key not found")
		}
		if p, err = b.upsertKey(ctx, d, items[0]); err != nil {
			return nil, err
		}
	}
	defVersion := d.Int("key_version")
	return runBatch(items, batch, func(it batchItem) (map[string]any, error) {
		ptB64, ok := it.str("plaintext")
		if !ok {
			return nil, logical.InvalidRequest("missing plaintext to encrypt")
		}
		plaintext, err := base64.StdEncoding.DecodeString(ptB64)
		if err != nil {
			return nil, logical.InvalidRequest("failed to base64-decode plaintext")
		}
		kctx, err := it.bytes("context")
		if err != nil {
			return nil, err
		}
		nonce, err := it.bytes("nonce")
		if err != nil {
			return nil, err
		}
		aad, err := it.bytes("associated_data")
		if err != nil {
			return nil, err
		}
		ver := it.num("key_version")
		if ver == 0 {
			ver = defVersion
		}
		ct, used, err := p.encrypt(ver, kctx, nonce, plaintext, aad)
		if err != nil {
			return nil, err
		}
		return map[string]any{"ciphertext": ct, "key_version": used}, nil
	})
}

func (b *Backend) upsertKey(ctx context.Context, d *logical.FieldData, first batchItem) (*policy, error) {
	typ, err := parseKeyType(d.String("type"))
	if err != nil {
		return nil, logical.InvalidRequest("%v", err)
	}
	if !typ.symmetric() {
		return nil, logical.InvalidRequest("key type %s not supported for upsert; create the key first", typ)
	}
	c, _ := first.str("context")
	o := keyOptions{typ: typ, derived: c != "", convergent: d.Bool("convergent_encryption")}
	name := d.String("name")
	return b.store.update(ctx, name, func(cur *policy) (*policy, error) {
		if cur != nil {
			return nil, errNoChange
		}
		return newPolicy(name, o, b.now())
	})
}

func (b *Backend) handleDecrypt(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	items, batch, err := requestItems(d, decryptItem)
	if err != nil {
		return nil, err
	}
	p, err := b.store.mustGet(ctx, d.String("name"))
	if err != nil {
		return nil, err
	}
	return runBatch(items, batch, func(it batchItem) (map[string]any, error) {
		ct, ok := it.str("ciphertext")
		if !ok || ct == "" {
			return nil, logical.InvalidRequest("missing ciphertext to decrypt")
		}
		kctx, err := it.bytes("context")
		if err != nil {
			return nil, err
		}
		aad, err := it.bytes("associated_data")
		if err != nil {
			return nil, err
		}
		plain, _, err := p.decrypt(kctx, aad, ct)
		if err != nil {
			return nil, err
		}
		return map[string]any{"plaintext": base64.StdEncoding.EncodeToString(plain)}, nil
	})
}

func (b *Backend) handleRewrap(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	items, batch, err := requestItems(d, rewrapItem)
	if err != nil {
		return nil, err
	}
	p, err := b.store.mustGet(ctx, d.String("name"))
	if err != nil {
		return nil, err
	}
	defVersion := d.Int("key_version")
	return runBatch(items, batch, func(it batchItem) (map[string]any, error) {
		ct, ok := it.str("ciphertext")
		if !ok || ct == "" {
			return nil, logical.InvalidRequest("missing ciphertext to decrypt")
		}
		kctx, err := it.bytes("context")
		if err != nil {
			return nil, err
		}
		plain, _, err := p.decrypt(kctx, nil, ct)
		if err != nil {
			return nil, err
		}
		ver := it.num("key_version")
		if ver == 0 {
			ver = defVersion
		}
		out, used, err := p.encrypt(ver, kctx, nil, plain, nil)
		if err != nil {
			return nil, err
		}
		return map[string]any{"ciphertext": out, "key_version": used}, nil
	})
}
