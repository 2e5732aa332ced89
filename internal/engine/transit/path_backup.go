package transit

import (
	"context"
	"encoding/base64"
	"encoding/json"

	"github.com/cofferdev/coffer/internal/logical"
)

// backupFormat is the JSON inside a backup's base64: the whole stored key.
// It is Coffer's own layout; Vault backups do not restore here.
type backupFormat struct {
	Policy *policy `json:"policy"`
}

func (b *Backend) backupPaths() []*logical.Path {
	return []*logical.Path{
		{
			Pattern:    `backup/` + namePattern,
			Operations: map[logical.Operation]logical.Handler{logical.ReadOperation: b.handleBackup},
			Help:       "Return a plaintext backup of a key that allows it (exportable and allow_plaintext_backup).",
		},
		{
			Pattern: `restore(?:/` + namePattern + `)?`,
			Fields: map[string]*logical.Field{
				"backup": {Type: logical.TypeString, Required: true},
				"force":  {Type: logical.TypeBool},
			},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.handleRestore},
			Help:       "Restore a key from a backup, under its own name or the one in the path.",
		},
	}
}

// handleBackup refuses unless the key is exportable and allows plaintext
// backups, as Vault does, and records the backup time in the key.
func (b *Backend) handleBackup(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	p, err := b.store.update(ctx, d.String("name"), func(cur *policy) (*policy, error) {
		switch {
		case cur == nil:
			return nil, logical.InvalidRequest("key not found")
		case !cur.Exportable:
			return nil, logical.InvalidRequest("exporting is disallowed on the policy")
		case !cur.AllowPlaintextBackup:
			return nil, logical.InvalidRequest("plaintext backup is disallowed on the policy")
		}
		cur.BackupTime = b.now().UTC()
		return cur, nil
	})
	if err != nil {
		return nil, err
	}
	buf, err := json.Marshal(backupFormat{Policy: p})
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"backup": base64.StdEncoding.EncodeToString(buf)}), nil
}

func (b *Backend) handleRestore(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	p, err := decodeBackup(d.String("backup"))
	if err != nil {
		return nil, err
	}
	if name := d.String("name"); name != "" {
		p.Name = name
	}
	if !validKeyName(p.Name) {
		return nil, logical.InvalidRequest("invalid key name in backup")
	}
	force := d.Bool("force")
	_, err = b.store.update(ctx, p.Name, func(cur *policy) (*policy, error) {
		if cur != nil && !force {
			return nil, logical.InvalidRequest("key %q already exists", p.Name)
		}
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	return &logical.Response{NoContent: true}, nil
}

// decodeBackup parses and validates a backup. Decoder messages are not
// passed on: they could quote key material.
func decodeBackup(s string) (*policy, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, logical.InvalidRequest("failed to decode backup: invalid base64")
	}
	var bf struct {
		Policy json.RawMessage `json:"policy"`
	}
	if json.Unmarshal(raw, &bf) != nil || len(bf.Policy) == 0 {
		return nil, logical.InvalidRequest("failed to decode backup: invalid format")
	}
	p, err := decodePolicy(bf.Policy)
	if err != nil {
		return nil, logical.InvalidRequest("failed to decode backup: invalid key data")
	}
	if p.LatestVersion < 1 || p.Keys[p.LatestVersion] == nil {
		return nil, logical.InvalidRequest("failed to decode backup: no latest key version")
	}
	return p, nil
}
