package database

import (
	"context"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

func (b *backend) configPaths() []*logical.Path {
	return []*logical.Path{
		{Pattern: "config/?", Help: "list connection configs",
			Operations: map[logical.Operation]logical.Handler{logical.ListOperation: b.listPrefix("config/")}},
		{Pattern: "config/(?P<name>[^/]+)", Help: "configure a database connection",
			Fields: map[string]*logical.Field{
				"plugin_name":                {Type: logical.TypeString},
				"plugin_version":             {Type: logical.TypeString},
				"connection_url":             {Type: logical.TypeString},
				"username":                   {Type: logical.TypeString},
				"password":                   {Type: logical.TypeString},
				"allowed_roles":              {Type: logical.TypeStringSlice},
				"verify_connection":          {Type: logical.TypeBool, Default: true},
				"password_policy":            {Type: logical.TypeString},
				"max_open_connections":       {Type: logical.TypeInt},
				"max_idle_connections":       {Type: logical.TypeInt},
				"max_connection_lifetime":    {Type: logical.TypeDuration},
				"root_rotation_statements":   {Type: logical.TypeRaw},
				"username_template":          {Type: logical.TypeString},
				"password_authentication":    {Type: logical.TypeString},
				"disable_escaping":           {Type: logical.TypeBool},
				"verify_connection_on_write": {Type: logical.TypeBool},
			},
			Existence: func(ctx context.Context, _ *logical.Request, d *logical.FieldData) (bool, error) {
				c, err := getJSON[dbConfig](ctx, b.store, "config/"+d.String("name"))
				return c != nil, err
			},
			Operations: map[logical.Operation]logical.Handler{
				logical.ReadOperation:   b.configRead,
				logical.CreateOperation: b.configWrite,
				logical.UpdateOperation: b.configWrite,
				logical.DeleteOperation: b.configDelete,
			}},
	}
}

func (b *backend) listPrefix(prefix string) logical.Handler {
	return func(ctx context.Context, _ *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
		keys, err := b.store.List(ctx, prefix)
		if err != nil {
			return nil, err
		}
		return logical.ListResponse(keys), nil
	}
}

func (b *backend) configRead(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	c, err := getJSON[dbConfig](ctx, b.store, "config/"+d.String("name"))
	if err != nil || c == nil {
		return nil, err
	}
	allowed := c.AllowedRoles
	if allowed == nil {
		allowed = []string{}
	}
	rot := c.RootRotationStatements
	if rot == nil {
		rot = []string{}
	}
	// The root password is never returned.
	return logical.DataResponse(map[string]any{
		"plugin_name": c.PluginName, "plugin_version": "", "allowed_roles": allowed,
		"password_policy": c.PasswordPolicy, "verify_connection": c.VerifyConnection,
		"root_credentials_rotate_statements": rot,
		"connection_details": map[string]any{
			"connection_url": c.ConnectionURL, "username": c.Username,
			"max_open_connections": c.MaxOpenConnections, "max_idle_connections": c.MaxIdleConnections,
			"max_connection_lifetime": c.MaxConnectionLifetime.String(), "username_template": c.UsernameTemplate,
			"password_authentication": "password",
		},
	}), nil
}

func (b *backend) configWrite(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.String("name")
	b.rotMu.Lock()
	defer b.rotMu.Unlock()
	c, err := getJSON[dbConfig](ctx, b.store, "config/"+name)
	if err != nil {
		return nil, err
	}
	if c == nil {
		c = &dbConfig{MaxOpenConnections: 4}
	}
	if err := applyConfigFields(c, d); err != nil {
		return nil, err
	}
	if c.VerifyConnection {
		p, err := openPool(ctx, c)
		if err != nil {
			return nil, logical.InvalidRequest("error creating database object: %v", err)
		}
		p.Close()
	}
	if err := putJSON(ctx, b.store, "config/"+name, c); err != nil {
		return nil, err
	}
	b.closePool(name)
	return &logical.Response{NoContent: true}, nil
}

func applyConfigFields(c *dbConfig, d *logical.FieldData) error {
	if v, ok := d.GetOk("plugin_name"); ok {
		c.PluginName = v.(string)
	}
	if c.PluginName != PluginName {
		return logical.InvalidRequest("plugin_name must be %q", PluginName)
	}
	for field, dst := range map[string]*string{"connection_url": &c.ConnectionURL, "username": &c.Username,
		"password": &c.Password, "password_policy": &c.PasswordPolicy, "username_template": &c.UsernameTemplate} {
		if v, ok := d.GetOk(field); ok {
			*dst = v.(string)
		}
	}
	if c.ConnectionURL == "" {
		return logical.InvalidRequest("connection_url is required")
	}
	if v, ok := d.GetOk("allowed_roles"); ok {
		c.AllowedRoles = v.([]string)
	}
	c.VerifyConnection = d.Bool("verify_connection")
	if v, ok := d.GetOk("max_open_connections"); ok {
		c.MaxOpenConnections = v.(int)
	}
	if v, ok := d.GetOk("max_idle_connections"); ok {
		c.MaxIdleConnections = v.(int)
	}
	if c.MaxOpenConnections < 0 || c.MaxIdleConnections < 0 {
		return logical.InvalidRequest("connection limits must not be negative")
	}
	if _, ok := d.GetOk("max_connection_lifetime"); ok {
		c.MaxConnectionLifetime = d.Duration("max_connection_lifetime")
	}
	stmts, ok, err := statementsField(d, "root_rotation_statements")
	if err != nil {
		return err
	}
	if ok {
		c.RootRotationStatements = stmts
	}
	if c.UsernameTemplate != "" {
		if _, err := parseUsernameTemplate(c.UsernameTemplate, nil); err != nil {
			return logical.InvalidRequest("%v", err)
		}
	}
	return nil
}

func (b *backend) configDelete(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.String("name")
	b.closePool(name)
	if err := b.store.Delete(ctx, "config/"+name); err != nil {
		return nil, err
	}
	return nil, nil
}

// validName rejects names that could escape their storage folder.
func validName(name string) bool {
	return name != "" && !strings.Contains(name, "..") && storage.ValidateKey("x/"+name) == nil
}
