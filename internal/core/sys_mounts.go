package core

import (
	"context"
	"maps"
	"regexp"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// reservedMounts cannot be used by sys/mounts.
var reservedMounts = []string{"sys/", "cubbyhole/", "auth/", "identity/"}

var mountSegment = regexp.MustCompile(`^[A-Za-z0-9_.@-]+$`)

// normalizeMountPath validates a mount path and gives it a trailing slash.
func normalizeMountPath(p string) (string, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return "", logical.InvalidRequest("mount path must not be empty")
	}
	if len(p) > 256 {
		return "", logical.InvalidRequest("mount path is longer than 256 bytes")
	}
	for _, seg := range strings.Split(p, "/") {
		if !mountSegment.MatchString(seg) || seg == "." || seg == ".." {
			return "", logical.InvalidRequest("invalid mount path %q: segments may contain letters, digits and _ . @ -", p)
		}
	}
	return p + "/", nil
}

func mountInfo(m *MountEntry) map[string]any {
	opts := map[string]any{}
	for k, v := range m.Options {
		opts[k] = v
	}
	var options any = opts
	if len(opts) == 0 {
		options = nil
	}
	return map[string]any{
		"type": m.Type, "description": m.Description, "accessor": m.Accessor, "uuid": m.UUID,
		"local": m.Local, "seal_wrap": m.SealWrap, "external_entropy_access": false,
		"options": options, "plugin_version": "", "running_plugin_version": "", "running_sha256": "",
		"config": mountConfigInfo(m),
	}
}

func mountConfigInfo(m *MountEntry) map[string]any {
	cfg := map[string]any{
		"default_lease_ttl": int64(m.Config.DefaultLeaseTTL / time.Second),
		"max_lease_ttl":     int64(m.Config.MaxLeaseTTL / time.Second),
		"force_no_cache":    false,
	}
	if m.Table == tableAuth {
		cfg["token_type"] = authTokenType(m)
	}
	return cfg
}

// authTokenType is an auth mount's token_type as Vault shows it.
func authTokenType(m *MountEntry) string {
	if m.Config.TokenType == "" {
		return mountTokenDefaultService
	}
	return m.Config.TokenType
}

// mountEnableFields is the body of sys/mounts/:path and sys/auth/:path.
func mountEnableFields() map[string]*logical.Field {
	return map[string]*logical.Field{
		"type":        {Type: logical.TypeString, Required: true},
		"description": {Type: logical.TypeString},
		"config":      {Type: logical.TypeMap},
		"options":     {Type: logical.TypeKVPairs},
		"local":       {Type: logical.TypeBool},
		"seal_wrap":   {Type: logical.TypeBool},
		"plugin_name": {Type: logical.TypeString},
	}
}

func (c *Core) mountPaths(st *unsealedState) []*logical.Path {
	enableFields := mountEnableFields()
	tuneFields := map[string]*logical.Field{
		"default_lease_ttl": {Type: logical.TypeRaw},
		"max_lease_ttl":     {Type: logical.TypeRaw},
		"description":       {Type: logical.TypeString},
		"options":           {Type: logical.TypeKVPairs},
		"token_type":        {Type: logical.TypeString},
	}
	return []*logical.Path{
		{Pattern: "mounts/?", Operations: ops(map[logical.Operation]logical.Handler{
			logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				data := map[string]any{}
				for _, m := range st.mounts.list(tableSecret) {
					data[m.Path] = mountInfo(m)
				}
				return logical.DataResponse(data), nil
			}})},
		{Pattern: "mounts/(?P<path>.+?)/tune", Fields: tuneFields, Operations: ops(map[logical.Operation]logical.Handler{
			logical.ReadOperation:   c.handleTuneRead(st),
			logical.UpdateOperation: c.handleTuneWrite(st)})},
		{Pattern: "(?P<path>auth/.+?)/tune", Fields: tuneFields, Operations: ops(map[logical.Operation]logical.Handler{
			logical.ReadOperation:   c.handleTuneRead(st),
			logical.UpdateOperation: c.handleTuneWrite(st)})},
		{Pattern: "mounts/(?P<path>.+)", Fields: enableFields, Operations: ops(map[logical.Operation]logical.Handler{
			logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
				p, err := normalizeMountPath(d.String("path"))
				if err != nil {
					return nil, err
				}
				m := st.mounts.get(p)
				if m == nil || m.Table != tableSecret {
					return nil, logical.InvalidRequest("no mount at %q", p)
				}
				return logical.DataResponse(mountInfo(m)), nil
			},
			logical.UpdateOperation: c.handleMount(st),
			logical.DeleteOperation: c.handleUnmount(st)})},
	}
}

func (c *Core) handleMount(st *unsealedState) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		p, err := normalizeMountPath(d.String("path"))
		if err != nil {
			return nil, err
		}
		m := &MountEntry{Table: tableSecret, Path: p, Type: d.String("type"), Description: d.String("description"),
			Options: d.KVPairs("options"), Local: d.Bool("local"), SealWrap: d.Bool("seal_wrap")}
		switch m.Type {
		case "kv-v2":
			m.Type = "kv"
			if m.Options == nil {
				m.Options = map[string]string{}
			}
			m.Options["version"] = "2"
		case "generic":
			m.Type = "kv"
		}
		if m.Type == "kv" {
			if v := m.Options["version"]; v != "" && v != "1" && v != "2" {
				return nil, logical.InvalidRequest("invalid kv version %q: must be 1 or 2", v)
			}
		}
		if builtinTypes[m.Type] {
			return nil, logical.InvalidRequest("cannot mount %q: it is built in", m.Type)
		}
		if m.Config, err = parseMountConfig(d.Map("config"), c.maxTTL); err != nil {
			return nil, err
		}
		if err := c.mount(ctx, st, m); err != nil {
			return nil, err
		}
		return &logical.Response{NoContent: true}, nil
	}
}

// parseMountConfig reads the TTLs of a "config" object.
func parseMountConfig(raw map[string]any, systemMax time.Duration) (MountConfig, error) {
	var mc MountConfig
	for k, v := range raw {
		var err error
		switch k {
		case "default_lease_ttl":
			mc.DefaultLeaseTTL, err = logical.ParseDuration(v)
		case "max_lease_ttl":
			mc.MaxLeaseTTL, err = logical.ParseDuration(v)
		case "token_type":
			s, _ := v.(string)
			mc.TokenType = s
		case "force_no_cache", "audit_non_hmac_request_keys", "audit_non_hmac_response_keys",
			"listing_visibility", "passthrough_request_headers", "allowed_response_headers",
			"description", "options", "allowed_managed_keys", "plugin_version",
			"user_lockout_config", "delegated_auth_accessors", "identity_token_key":
			// Sent by the Vault client's MountConfigInput; accepted for
			// compatibility. Only the TTLs take effect (options and
			// description are read from the top level of the request).
		default:
			return mc, logical.InvalidRequest("unknown mount config field %q", k)
		}
		if err != nil {
			return mc, logical.InvalidRequest("config.%s: %v", k, err)
		}
	}
	return mc, validateTTLs(mc, systemMax)
}

func validateTTLs(mc MountConfig, systemMax time.Duration) error {
	if mc.MaxLeaseTTL > systemMax {
		return logical.InvalidRequest("max_lease_ttl %s exceeds the system maximum %s", mc.MaxLeaseTTL, systemMax)
	}
	if mc.DefaultLeaseTTL > systemMax || (mc.MaxLeaseTTL != 0 && mc.DefaultLeaseTTL > mc.MaxLeaseTTL) {
		return logical.InvalidRequest("default_lease_ttl %s exceeds max_lease_ttl", mc.DefaultLeaseTTL)
	}
	return nil
}

// mount adds m to the table, persisting the table before serving the mount.
func (c *Core) mount(ctx context.Context, st *unsealedState, m *MountEntry) error {
	for _, r := range reservedMounts {
		if m.Table == tableSecret && strings.HasPrefix(m.Path, r) {
			return logical.InvalidRequest("cannot mount at %q: %q is reserved", m.Path, r)
		}
	}
	st.mountLock.Lock()
	defer st.mountLock.Unlock()
	for _, e := range st.mounts.persisted() {
		if strings.HasPrefix(m.Path, e.Path) || strings.HasPrefix(e.Path, m.Path) {
			return logical.InvalidRequest("path is already in use at %s", e.Path)
		}
	}
	m.UUID, m.Accessor = newID(), newAccessor(m.Table, m.Type)
	if err := c.instantiate(ctx, st, m); err != nil {
		return err
	}
	if err := c.saveMounts(ctx, append(st.mounts.persisted(), m)); err != nil {
		return err
	}
	st.mounts.mu.Lock()
	st.mounts.entries[m.Path] = m
	st.mounts.mu.Unlock()
	c.logger.Info("core: mounted", "path", m.Path, "type", m.Type)
	return nil
}

func (c *Core) handleUnmount(st *unsealedState) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		p, err := normalizeMountPath(d.String("path"))
		if err != nil {
			return nil, err
		}
		m := st.mounts.get(p)
		if m == nil {
			return &logical.Response{NoContent: true}, nil
		}
		if m.Table != tableSecret || builtinTypes[m.Type] {
			return nil, logical.InvalidRequest("cannot unmount %q", p)
		}
		return c.unmount(ctx, st, m)
	}
}

func (c *Core) tuneTarget(st *unsealedState, raw string) (*MountEntry, error) {
	p := strings.Trim(raw, "/") + "/"
	m := st.mounts.get(p)
	if m == nil {
		return nil, logical.InvalidRequest("cannot fetch sysview for path %q", p)
	}
	return m, nil
}

func (c *Core) handleTuneRead(st *unsealedState) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		m, err := c.tuneTarget(st, d.String("path"))
		if err != nil {
			return nil, err
		}
		data := map[string]any{
			"default_lease_ttl": int64(m.sys.DefaultLeaseTTL() / time.Second),
			"max_lease_ttl":     int64(m.sys.MaxLeaseTTL() / time.Second),
			"force_no_cache":    false,
			"description":       m.Description,
		}
		if m.Table == tableAuth {
			data["token_type"] = authTokenType(m)
		}
		if len(m.Options) > 0 {
			data["options"] = m.Options
		}
		return logical.DataResponse(data), nil
	}
}

func (c *Core) handleTuneWrite(st *unsealedState) logical.Handler {
	return func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		st.mountLock.Lock()
		defer st.mountLock.Unlock()
		m, err := c.tuneTarget(st, d.String("path"))
		if err != nil {
			return nil, err
		}
		raw := map[string]any{}
		for _, k := range []string{"default_lease_ttl", "max_lease_ttl"} {
			if v, ok := d.GetOk(k); ok && v != "" {
				raw[k] = v
			}
		}
		next := *m
		if err := applyTune(&next, raw, d, c.maxTTL); err != nil {
			return nil, err
		}
		if kvUpgrade(m, &next) {
			return c.upgradeKV(ctx, st, m, &next)
		}
		if err := c.saveMountsWith(ctx, st, &next); err != nil {
			return nil, err
		}
		mc := next.Config
		next.sys.cfg.Store(&mc)
		st.mounts.mu.Lock()
		st.mounts.entries[m.Path] = &next
		st.mounts.mu.Unlock()
		return &logical.Response{NoContent: true}, nil
	}
}

// applyTune changes the tunable fields of next. TTLs given as "system" or
// 0 fall back to the system values.
func applyTune(next *MountEntry, raw map[string]any, d *logical.FieldData, systemMax time.Duration) error {
	for k, v := range raw {
		var ttl time.Duration
		if s, ok := v.(string); !ok || s != "system" {
			var err error
			if ttl, err = logical.ParseDuration(v); err != nil {
				return logical.InvalidRequest("%s: %v", k, err)
			}
		}
		if k == "default_lease_ttl" {
			next.Config.DefaultLeaseTTL = ttl
		} else {
			next.Config.MaxLeaseTTL = ttl
		}
	}
	if err := validateTTLs(next.Config, systemMax); err != nil {
		return err
	}
	if desc, ok := d.GetOk("description"); ok {
		next.Description = desc.(string)
	}
	if tt, ok := d.GetOk("token_type"); ok {
		if next.Table != tableAuth {
			return logical.InvalidRequest("token_type applies only to auth methods")
		}
		if err := validateTokenType(tt.(string)); err != nil {
			return err
		}
		next.Config.TokenType = tt.(string)
	}
	if opts := d.KVPairs("options"); opts != nil {
		if v, ok := opts["version"]; ok && v != next.Options["version"] && !(v == "1" && next.Options["version"] == "") {
			if next.Type != "kv" || v != "2" {
				return logical.InvalidRequest("a mount's kv version can only change from 1 to 2, not to %q", v)
			}
			next.Options = maps.Clone(next.Options)
			if next.Options == nil {
				next.Options = map[string]string{}
			}
			next.Options["version"] = v
		}
	}
	return nil
}

// kvUpgrade reports whether a tune from m to next turns a KV v1 mount into
// KV v2.
func kvUpgrade(m, next *MountEntry) bool {
	return m.Type == "kv" && m.Options["version"] != "2" && next.Options["version"] == "2"
}
