package cert

import (
	"context"

	"github.com/cofferdev/coffer/internal/logical"
)

func (b *Backend) configPath() *logical.Path {
	return &logical.Path{
		Pattern: `config`,
		Fields: map[string]*logical.Field{
			"disable_binding": {Type: logical.TypeBool,
				Description: "renew tokens without asking for the login's client certificate again"},
			"enable_identity_alias_metadata": {Type: logical.TypeBool,
				Description: "copy the login's certificate metadata onto its identity alias"},
			"ocsp_cache_size":             {Type: logical.TypeInt, Description: "ignored: OCSP is not supported"},
			"role_cache_size":             {Type: logical.TypeInt, Description: "ignored: entries are read from storage"},
			"enable_metadata_on_failures": {Type: logical.TypeBool, Description: "ignored: failed logins carry no metadata"},
		},
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   b.handleConfigRead,
			logical.UpdateOperation: b.handleConfigWrite,
		},
		Help: "Configure the cert auth method.",
	}
}

func (b *Backend) handleConfigRead(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
	c, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"disable_binding":                c.DisableBinding,
		"enable_identity_alias_metadata": c.EnableIdentityAliasMetadata,
	}), nil
}

// handleConfigWrite updates the settings the client sent.
func (b *Backend) handleConfigWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := loadConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if v, ok := d.GetOk("disable_binding"); ok {
		c.DisableBinding = v.(bool)
	}
	if v, ok := d.GetOk("enable_identity_alias_metadata"); ok {
		c.EnableIdentityAliasMetadata = v.(bool)
	}
	if err := putJSON(ctx, req.Storage, configKey, c); err != nil {
		return nil, err
	}
	resp := &logical.Response{NoContent: true}
	for _, f := range []string{"ocsp_cache_size", "role_cache_size", "enable_metadata_on_failures"} {
		if _, ok := d.GetOk(f); ok {
			resp.Warn(f + " is not supported and was ignored")
		}
	}
	return resp, nil
}
