package transit

import (
	"context"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

func (b *Backend) configPath() *logical.Path {
	return &logical.Path{
		Pattern: `keys/` + namePattern + `/config`,
		Fields: map[string]*logical.Field{
			"min_decryption_version": {Type: logical.TypeInt},
			"min_encryption_version": {Type: logical.TypeInt},
			"deletion_allowed":       {Type: logical.TypeBool},
			"exportable":             {Type: logical.TypeBool},
			"allow_plaintext_backup": {Type: logical.TypeBool},
			"auto_rotate_period":     {Type: logical.TypeDuration},
		},
		Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleConfig},
		Help:       "Configure a named key's version limits and permissions.",
	}
}

// handleConfig applies Vault's rules: versions within [1, latest],
// min_encryption_version (when set) not below min_decryption_version,
// exportable and allow_plaintext_backup never switched off again.
func (b *Backend) handleConfig(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	var warnings []string
	p, err := b.store.update(ctx, d.String("name"), func(cur *policy) (*policy, error) {
		if cur == nil {
			return nil, logical.InvalidRequest("no existing key named %s could be found", d.String("name"))
		}
		w, err := applyConfig(cur, d)
		warnings = w
		return cur, err
	})
	if err != nil {
		return nil, err
	}
	resp := keyResponse(p)
	resp.Warnings = warnings
	return resp, nil
}

func applyConfig(p *policy, d *logical.FieldData) ([]string, error) {
	var warnings []string
	if v, ok := d.GetOk("min_decryption_version"); ok {
		minDec := v.(int)
		switch {
		case minDec < 0:
			return nil, logical.InvalidRequest("min decryption version cannot be negative")
		case minDec == 0:
			minDec = 1
			warnings = append(warnings, "since Vault 0.3, transit key numbering starts at 1; forcing minimum to 1")
		case minDec > p.LatestVersion:
			return nil, logical.InvalidRequest("cannot set min decryption version of %d, latest key version is %d", minDec, p.LatestVersion)
		case minDec < p.MinAvailableVersion:
			return nil, logical.InvalidRequest("min decryption version should not be less then min available version")
		}
		p.MinDecryptionVersion = minDec
	}
	if v, ok := d.GetOk("min_encryption_version"); ok {
		minEnc := v.(int)
		switch {
		case minEnc < 0:
			return nil, logical.InvalidRequest("min encryption version cannot be negative")
		case minEnc > p.LatestVersion:
			return nil, logical.InvalidRequest("cannot set min encryption version of %d, latest key version is %d", minEnc, p.LatestVersion)
		}
		p.MinEncryptionVersion = minEnc
	}
	if p.MinEncryptionVersion > 0 && p.MinEncryptionVersion < p.MinDecryptionVersion {
		return nil, logical.InvalidRequest("min encryption version should not be less than min decryption version")
	}
	if v, ok := d.GetOk("deletion_allowed"); ok {
		p.DeletionAllowed = v.(bool)
	}
	if v, ok := d.GetOk("exportable"); ok {
		if p.Exportable && !v.(bool) {
			return nil, logical.InvalidRequest("export key cannot be disabled after enabled")
		}
		p.Exportable = v.(bool)
	}
	if v, ok := d.GetOk("allow_plaintext_backup"); ok {
		if p.AllowPlaintextBackup && !v.(bool) {
			return nil, logical.InvalidRequest("allow_plaintext_backup cannot be disabled after enabled")
		}
		p.AllowPlaintextBackup = v.(bool)
	}
	if v, ok := d.GetOk("auto_rotate_period"); ok {
		if err := checkAutoRotate(v.(time.Duration)); err != nil {
			return nil, err
		}
		if v.(time.Duration) > 0 && p.Imported && !p.AllowImportedKeyRotation {
			return nil, logical.InvalidRequest("key %q was imported without allow_rotation: it cannot rotate automatically", p.Name)
		}
		p.AutoRotatePeriod = v.(time.Duration)
	}
	return warnings, nil
}
