package kv

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// configPath is config: the mount's max_versions, cas_required and
// delete_version_after.
func (b *versioned) configPath() *logical.Path {
	return &logical.Path{
		Pattern: `config`,
		Fields: map[string]*logical.Field{
			"max_versions": {Type: logical.TypeInt, Description: "Versions to keep per key; 0 means 10."},
			"cas_required": {Type: logical.TypeBool, Description: "Require options.cas on every write."},
			"delete_version_after": {Type: logical.TypeRaw, Description: "Time after which a new version counts as deleted; " +
				"0 clears the setting, a negative duration disables it for every key."},
		},
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   b.configRead,
			logical.UpdateOperation: b.configWrite,
		},
		Help: "Configure settings applied to every key of the mount.",
	}
}

func (b *versioned) configRead(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	return &logical.Response{Data: map[string]any{
		"cas_required":         cfg.CASRequired,
		"delete_version_after": cfg.DeleteVersionAfter.String(),
		"max_versions":         cfg.MaxVersions,
	}}, nil
}

// configWrite updates the fields sent. delete_version_after follows Vault:
// positive sets it, 0 clears it, negative disables it mount-wide (stored and
// shown as -1s).
func (b *versioned) configWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	maxRaw, mOk := d.GetOk("max_versions")
	casRaw, cOk := d.GetOk("cas_required")
	dvaRaw, dOk := d.GetOk("delete_version_after")
	if !mOk && !cOk && !dOk {
		return noContent(), nil
	}
	cfg, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if mOk {
		n := maxRaw.(int)
		if n < 0 || n > math.MaxUint32 {
			return nil, logical.InvalidRequest("max_versions must be between 0 and %d", uint32(math.MaxUint32))
		}
		cfg.MaxVersions = uint32(n)
	}
	if cOk {
		cfg.CASRequired = casRaw.(bool)
	}
	if dOk {
		dva, err := parseSignedDuration(dvaRaw)
		if err != nil {
			return nil, logical.InvalidRequest("field %q: %v", "delete_version_after", err)
		}
		if dva < 0 {
			dva = -time.Second
		}
		cfg.DeleteVersionAfter = dva
	}
	op, err := putOp(configKey, cfg)
	if err != nil {
		return nil, err
	}
	if err := req.Storage.Put(ctx, &op.Entry); err != nil {
		return nil, storageError("write config", err)
	}
	return noContent(), nil
}

// parseSignedDuration accepts what logical.ParseDuration does, plus a
// leading "-" or a negative number of seconds. Results are whole seconds.
func parseSignedDuration(v any) (time.Duration, error) {
	if s, ok := v.(string); ok {
		if rest, neg := strings.CutPrefix(strings.TrimSpace(s), "-"); neg {
			d, err := logical.ParseDuration(rest)
			return -d.Truncate(time.Second), err
		}
	}
	if n, err := logical.ToInt(v); err == nil && n < 0 {
		if n < -math.MaxInt64/int(time.Second) {
			return 0, errors.New("duration out of range")
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := logical.ParseDuration(v)
	return d.Truncate(time.Second), err
}
