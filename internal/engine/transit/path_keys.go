package transit

import (
	"context"
	"strconv"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// namePattern is Vault's key name rule.
const namePattern = `(?P<name>\w(?:[\w\-.@]*\w)?)`

// validKeyName applies namePattern to a name that does not come from the
// path (a backup's): word characters, with '-', '.' and '@' inside.
func validKeyName(s string) bool {
	word := func(c byte) bool {
		return c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
	}
	if s == "" || !word(s[0]) || !word(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !word(c) && c != '-' && c != '.' && c != '@' {
			return false
		}
	}
	return true
}

// minAutoRotatePeriod is the shortest non-zero auto_rotate_period Vault
// accepts.
const minAutoRotatePeriod = time.Hour

func (b *Backend) keysPaths() []*logical.Path {
	return []*logical.Path{
		{
			Pattern:    `keys/?`,
			Operations: map[logical.Operation]logical.Handler{logical.ListOperation: b.handleListKeys},
			Help:       "List the named keys.",
		},
		{
			Pattern: `keys/` + namePattern,
			Fields: map[string]*logical.Field{
				"type":                   {Type: logical.TypeString, Default: string(defaultKeyType)},
				"derived":                {Type: logical.TypeBool},
				"convergent_encryption":  {Type: logical.TypeBool},
				"exportable":             {Type: logical.TypeBool},
				"allow_plaintext_backup": {Type: logical.TypeBool},
				"auto_rotate_period":     {Type: logical.TypeDuration},
				"context":                {Type: logical.TypeString},
			},
			Operations: map[logical.Operation]logical.Handler{
				logical.CreateOperation: b.handleCreateKey,
				logical.UpdateOperation: b.handleCreateKey,
				logical.ReadOperation:   b.handleReadKey,
				logical.DeleteOperation: b.handleDeleteKey,
			},
			// No existence check: as in Vault, creating a key needs
			// "update", so existing Vault policies work unchanged.
			Help: "Create, read or delete a named key.",
		},
		b.configPath(),
		{
			Pattern:    `keys/` + namePattern + `/rotate`,
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleRotate},
			Help:       "Add a new latest version to a key.",
		},
		{
			Pattern: `keys/` + namePattern + `/trim`,
			Fields: map[string]*logical.Field{
				"min_available_version": {Type: logical.TypeInt, Required: true},
			},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleTrim},
			Help:       "Delete key versions older than min_available_version.",
		},
	}
}

func (b *Backend) keyExists(ctx context.Context, _ *logical.Request, d *logical.FieldData) (bool, error) {
	p, err := b.store.get(ctx, d.String("name"))
	return p != nil, err
}

func (b *Backend) handleListKeys(ctx context.Context, _ *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	names, err := b.store.list(ctx)
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(names), nil
}

// keyOptions are the settings a key is created with.
type keyOptions struct {
	typ                 keyType
	derived, convergent bool
	exportable, backup  bool
	autoRotatePeriod    time.Duration
}

// newPolicy validates opts and generates version 1.
func newPolicy(name string, o keyOptions, now time.Time) (*policy, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	k, err := newKeyVersion(o.typ, now)
	if err != nil {
		return nil, err
	}
	return policyWith(name, o, k), nil
}

// policyWith is a key of options o (checked) whose version 1 is first.
func policyWith(name string, o keyOptions, first *keyVersion) *policy {
	p := &policy{
		Name: name, Type: o.typ, Derived: o.derived, ConvergentEncryption: o.convergent,
		Exportable: o.exportable, AllowPlaintextBackup: o.backup,
		AutoRotatePeriod: o.autoRotatePeriod, Keys: map[int]*keyVersion{},
	}
	p.addVersion(first)
	return p
}

// check refuses option combinations the key type does not support.
func (o keyOptions) check() error {
	switch {
	case o.convergent && !o.typ.symmetric():
		return logical.InvalidRequest("convergent encryption not supported for keys of type %s", o.typ)
	case o.convergent && !o.derived:
		return logical.InvalidRequest("convergent encryption requires derivation to be enabled, so context is required")
	case o.derived && !o.typ.supportsDerivation():
		return logical.InvalidRequest("key derivation not supported for key type %s", o.typ)
	}
	return checkAutoRotate(o.autoRotatePeriod)
}

func checkAutoRotate(d time.Duration) error {
	if d != 0 && d < minAutoRotatePeriod {
		return logical.InvalidRequest("auto rotate period must be 0 to disable or at least an hour")
	}
	return nil
}

// handleCreateKey creates a key; an existing key is returned unchanged, as
// Vault does.
func (b *Backend) handleCreateKey(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	typ, err := parseKeyType(d.String("type"))
	if err != nil {
		return nil, logical.InvalidRequest("%v", err)
	}
	o := keyOptions{
		typ: typ, derived: d.Bool("derived"), convergent: d.Bool("convergent_encryption"),
		exportable: d.Bool("exportable"), backup: d.Bool("allow_plaintext_backup"),
		autoRotatePeriod: d.Duration("auto_rotate_period"),
	}
	name := d.String("name")
	p, err := b.store.update(ctx, name, func(cur *policy) (*policy, error) {
		if cur != nil {
			return nil, errNoChange
		}
		return newPolicy(name, o, b.now())
	})
	if err != nil {
		return nil, err
	}
	return keyResponse(p), nil
}

func (b *Backend) handleReadKey(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	p, err := b.store.get(ctx, d.String("name"))
	if err != nil || p == nil {
		return nil, err
	}
	return keyResponse(p), nil
}

func (b *Backend) handleDeleteKey(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	_, err := b.store.update(ctx, d.String("name"), func(cur *policy) (*policy, error) {
		switch {
		case cur == nil:
			return nil, logical.InvalidRequest("could not delete key; not found")
		case !cur.DeletionAllowed:
			return nil, logical.InvalidRequest("deletion is not allowed for this key")
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &logical.Response{NoContent: true}, nil
}

func (b *Backend) handleRotate(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	p, err := b.store.update(ctx, d.String("name"), func(cur *policy) (*policy, error) {
		if cur == nil {
			return nil, logical.InvalidRequest("key not found")
		}
		return cur, cur.rotate(b.now())
	})
	if err != nil {
		return nil, err
	}
	return keyResponse(p), nil
}

// handleTrim deletes versions below min_available_version, which may not
// pass min_decryption_version or min_encryption_version (the latest
// version when that is 0), nor go backwards.
func (b *Backend) handleTrim(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	minAvail := d.Int("min_available_version")
	_, err := b.store.update(ctx, d.String("name"), func(cur *policy) (*policy, error) {
		if cur == nil {
			return nil, logical.InvalidRequest("invalid key name")
		}
		minEnc := cur.MinEncryptionVersion
		if minEnc == 0 {
			minEnc = cur.LatestVersion
		}
		switch {
		case minAvail <= 0:
			return nil, logical.InvalidRequest("minimum available version should be positive")
		case minAvail > minEnc:
			return nil, logical.InvalidRequest("cannot set min_available_version beyond min_encryption_version")
		case minAvail > cur.MinDecryptionVersion:
			return nil, logical.InvalidRequest("cannot set min_available_version beyond min_decryption_version")
		case minAvail < cur.MinAvailableVersion:
			return nil, logical.InvalidRequest("cannot set min_available_version lower than its current value")
		}
		for v := range cur.Keys {
			if v < minAvail {
				delete(cur.Keys, v)
			}
		}
		cur.MinAvailableVersion = minAvail
		return cur, nil
	})
	if err != nil {
		return nil, err
	}
	return &logical.Response{NoContent: true}, nil
}

// keyResponse is Vault's read of a key: no key material, only public keys.
func keyResponse(p *policy) *logical.Response {
	keys := make(map[string]any, len(p.Keys))
	for v, k := range p.Keys {
		if p.Type.symmetric() {
			keys[strconv.Itoa(v)] = k.CreationTime.Unix()
			continue
		}
		entry := map[string]any{
			"name":          p.Type.publicName(),
			"creation_time": k.CreationTime.Format(time.RFC3339Nano),
		}
		if !(p.Derived && p.Type == typeEd25519) {
			entry["public_key"] = k.PublicKey
		}
		keys[strconv.Itoa(v)] = entry
	}
	data := map[string]any{
		"name":                   p.Name,
		"type":                   string(p.Type),
		"keys":                   keys,
		"derived":                p.Derived,
		"exportable":             p.Exportable,
		"allow_plaintext_backup": p.AllowPlaintextBackup,
		"deletion_allowed":       p.DeletionAllowed,
		"latest_version":         p.LatestVersion,
		"min_available_version":  p.MinAvailableVersion,
		"min_decryption_version": p.MinDecryptionVersion,
		"min_encryption_version": p.MinEncryptionVersion,
		"auto_rotate_period":     int64(p.AutoRotatePeriod / time.Second),
		"imported_key":           p.Imported,
		"supports_encryption":    p.Type.supportsEncryption(),
		"supports_decryption":    p.Type.supportsEncryption(),
		"supports_derivation":    p.Type.supportsDerivation(),
		"supports_signing":       p.Type.supportsSigning(),
	}
	if p.Derived {
		data["kdf"] = "hkdf_sha256"
		data["convergent_encryption"] = p.ConvergentEncryption
		if p.ConvergentEncryption {
			data["convergent_encryption_version"] = -1
		}
	}
	if p.Imported {
		data["imported_key_allow_rotation"] = p.AllowImportedKeyRotation
	}
	if !p.BackupTime.IsZero() {
		data["backup_info"] = map[string]any{"time": p.BackupTime.Format(time.RFC3339Nano), "version": p.LatestVersion}
	}
	return logical.DataResponse(data)
}
