package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/netctl"
	"github.com/cofferdev/coffer/internal/storage"
)

// NetworkGuard is what the core asks of the network-controls layer: whether
// a login attempt may proceed (user lockout, banned addresses) and what each
// attempt's outcome was. A nil guard allows every attempt.
type NetworkGuard interface {
	// CheckLogin returns an error when the user (on that auth mount) is locked
	// out or the address is banned.
	CheckLogin(mountAccessor, user string, ip netip.Addr) error
	// RecordLogin counts a failed attempt, or clears the user's count after a
	// success.
	RecordLogin(mountAccessor, user string, ip netip.Addr, ok bool)
}

// QuotaSink is implemented by guards that enforce rate-limit quotas; the
// core hands it the stored quotas at unseal and after every change.
type QuotaSink interface {
	SetQuotas(qs []netctl.Quota) error
	SetQuotaConfig(cfg netctl.QuotaConfig)
}

// LoginAdmin is implemented by guards whose lockouts and bans operators can
// list and lift through sys/locked-users and sys/network/bans.
type LoginAdmin interface {
	LockedUsers() []netctl.LockedUser
	Unlock(mountAccessor, user string) int
	Bans() []netctl.Ban
	Unban(ip netip.Addr) bool
}

// Barrier locations of the rate-limit quotas and their settings.
const (
	quotaStorePath  = "sys/quotas/rate-limit/"
	quotaConfigPath = "sys/quotas/config"
)

// storedQuota is a quota's barrier record.
type storedQuota struct {
	Name          string        `json:"name"`
	Path          string        `json:"path"`
	Rate          float64       `json:"rate"`
	Interval      time.Duration `json:"interval"`
	BlockInterval time.Duration `json:"block_interval"`
}

// storedQuotaConfig is sys/quotas/config's barrier record. ExemptPaths is
// nil until an operator sets it, meaning Vault's default list.
type storedQuotaConfig struct {
	ExemptPaths     *[]string `json:"rate_limit_exempt_paths"`
	ResponseHeaders bool      `json:"enable_rate_limit_response_headers"`
}

func (q storedQuota) quota() netctl.Quota {
	return netctl.Quota{Name: q.Name, Path: q.Path, Rate: q.Rate, Interval: q.Interval, BlockInterval: q.BlockInterval}
}

func (cfg storedQuotaConfig) config() netctl.QuotaConfig {
	out := netctl.QuotaConfig{ExemptPaths: netctl.DefaultExemptPaths(), ResponseHeaders: cfg.ResponseHeaders}
	if cfg.ExemptPaths != nil {
		out.ExemptPaths = *cfg.ExemptPaths
	}
	return out
}

// networkPaths serve the sys/ endpoints of the network controls: Vault's
// sys/quotas/rate-limit, sys/quotas/config and sys/locked-users, and
// Coffer's sys/network/bans. They exist only when the guard supports them.
func (c *Core) networkPaths(st *unsealedState) []*logical.Path {
	var paths []*logical.Path
	if qs, ok := c.network.(QuotaSink); ok {
		paths = append(paths, c.quotaPaths(qs)...)
	}
	if la, ok := c.network.(LoginAdmin); ok {
		paths = append(paths, lockoutPaths(la)...)
	}
	return paths
}

// loadNetwork hands the network controls their stored settings at unseal.
func (c *Core) loadNetwork(ctx context.Context, st *unsealedState) error {
	qs, ok := c.network.(QuotaSink)
	if !ok {
		return nil
	}
	return c.pushQuotas(ctx, qs)
}

// pushQuotas reads every stored quota and the quota settings and hands them
// to the guard.
func (c *Core) pushQuotas(ctx context.Context, qs QuotaSink) error {
	view := storage.NewView(c.barrier, quotaStorePath)
	names, err := view.List(ctx, "")
	if err != nil {
		return fmt.Errorf("core: list quotas: %w", err)
	}
	quotas := make([]netctl.Quota, 0, len(names))
	for _, name := range names {
		q, err := c.readQuota(ctx, name)
		if err != nil {
			return err
		}
		if q != nil {
			quotas = append(quotas, q.quota())
		}
	}
	if err := qs.SetQuotas(quotas); err != nil {
		return fmt.Errorf("core: apply quotas: %w", err)
	}
	cfg, err := c.readQuotaConfig(ctx)
	if err != nil {
		return err
	}
	qs.SetQuotaConfig(cfg.config())
	return nil
}

func (c *Core) readQuota(ctx context.Context, name string) (*storedQuota, error) {
	e, err := c.barrier.Get(ctx, quotaStorePath+name)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("core: read quota: %w", err)
	}
	var q storedQuota
	if err := json.Unmarshal(e.Value, &q); err != nil {
		return nil, fmt.Errorf("core: decode quota %q: %w", name, err)
	}
	return &q, nil
}

func (c *Core) readQuotaConfig(ctx context.Context) (storedQuotaConfig, error) {
	var cfg storedQuotaConfig
	e, err := c.barrier.Get(ctx, quotaConfigPath)
	if errors.Is(err, storage.ErrNotFound) {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("core: read quota config: %w", err)
	}
	if err := json.Unmarshal(e.Value, &cfg); err != nil {
		return cfg, fmt.Errorf("core: decode quota config: %w", err)
	}
	return cfg, nil
}

func (c *Core) putJSON(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("core: encode %s: %w", key, err)
	}
	return c.barrier.Put(ctx, &storage.Entry{Key: key, Value: b})
}

// parseRate reads a quota's rate: a JSON number or numeric string.
func parseRate(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case json.Number:
		return x.Float64()
	case string:
		return strconv.ParseFloat(x, 64)
	}
	return 0, errors.New("expected a number")
}

// quotaPaths serve sys/quotas/rate-limit and sys/quotas/config. They need
// ordinary ACL capabilities on those paths, as in Vault.
func (c *Core) quotaPaths(qs QuotaSink) []*logical.Path {
	fields := map[string]*logical.Field{
		"path":           {Type: logical.TypeString, Description: "mount path or path prefix; empty for every path"},
		"rate":           {Type: logical.TypeRaw, Description: "requests allowed per interval per client address"},
		"interval":       {Type: logical.TypeDuration, Description: "the window rate is counted over (1s)"},
		"block_interval": {Type: logical.TypeDuration, Description: "how long a client that exceeded the quota is refused"},
		"role":           {Type: logical.TypeString, Description: "accepted for compatibility and ignored"},
		"type":           {Type: logical.TypeString, Description: "accepted for compatibility"},
		"inheritable":    {Type: logical.TypeBool, Description: "accepted for compatibility and ignored"},
	}
	exists := func(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
		q, err := c.readQuota(ctx, d.String("name"))
		return q != nil, err
	}
	return []*logical.Path{
		{Pattern: "quotas/rate-limit/?", Help: "list rate-limit quotas",
			Operations: ops(map[logical.Operation]logical.Handler{logical.ListOperation: c.listQuotas})},
		{Pattern: "quotas/rate-limit/(?P<name>[A-Za-z0-9._-]+)", Fields: fields, Existence: exists,
			Help: "a rate-limit quota",
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ReadOperation: c.readQuotaHandler,
				logical.UpdateOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					return c.writeQuota(ctx, qs, d)
				},
				logical.DeleteOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					if err := c.barrier.Delete(ctx, quotaStorePath+d.String("name")); err != nil {
						return nil, err
					}
					return &logical.Response{NoContent: true}, c.pushQuotas(ctx, qs)
				}})},
		{Pattern: "quotas/config", Help: "rate-limit quota settings",
			Fields: map[string]*logical.Field{
				"rate_limit_exempt_paths":            {Type: logical.TypeStringSlice},
				"enable_rate_limit_response_headers": {Type: logical.TypeBool},
				"enable_rate_limit_audit_logging":    {Type: logical.TypeBool, Description: "accepted; refusals are always audited"},
			},
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					cfg, err := c.readQuotaConfig(ctx)
					if err != nil {
						return nil, err
					}
					qc := cfg.config()
					return logical.DataResponse(map[string]any{"rate_limit_exempt_paths": qc.ExemptPaths,
						"enable_rate_limit_response_headers": qc.ResponseHeaders, "enable_rate_limit_audit_logging": true}), nil
				},
				logical.UpdateOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					return c.writeQuotaConfig(ctx, qs, d)
				}})},
	}
}

func (c *Core) listQuotas(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	names, err := storage.NewView(c.barrier, quotaStorePath).List(ctx, "")
	if err != nil {
		return nil, err
	}
	return logical.ListResponse(names), nil
}

func (c *Core) readQuotaHandler(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	q, err := c.readQuota(ctx, d.String("name"))
	if err != nil || q == nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"name": q.Name, "path": q.Path, "type": "rate-limit", "rate": q.Rate,
		"interval": int64(q.Interval / time.Second), "block_interval": int64(q.BlockInterval / time.Second),
		"role": "", "inheritable": false, "namespace": "",
	}), nil
}

// writeQuota creates or updates a quota: fields left out keep their stored
// values (or defaults for a new quota).
func (c *Core) writeQuota(ctx context.Context, qs QuotaSink, d *logical.FieldData) (*logical.Response, error) {
	name := d.String("name")
	q, err := c.readQuota(ctx, name)
	if err != nil {
		return nil, err
	}
	if q == nil {
		q = &storedQuota{Name: name, Interval: netctl.DefaultQuotaInterval}
	}
	if v, ok := d.GetOk("path"); ok {
		q.Path = netctl.NormalizePrefix(v.(string))
	}
	if v, ok := d.GetOk("rate"); ok {
		if q.Rate, err = parseRate(v); err != nil {
			return nil, logical.InvalidRequest("field \"rate\": %v", err)
		}
	}
	if v, ok := d.GetOk("interval"); ok {
		q.Interval = v.(time.Duration)
	}
	if v, ok := d.GetOk("block_interval"); ok {
		q.BlockInterval = v.(time.Duration)
	}
	if t := d.String("type"); t != "" && t != "rate-limit" {
		return nil, logical.InvalidRequest("type %q does not match the endpoint's rate-limit", t)
	}
	if q.Interval == 0 {
		q.Interval = netctl.DefaultQuotaInterval
	}
	if err := q.quota().Validate(); err != nil {
		return nil, logical.InvalidRequest("%s", trimSentinel(err))
	}
	if err := c.putJSON(ctx, quotaStorePath+name, q); err != nil {
		return nil, err
	}
	if err := c.pushQuotas(ctx, qs); err != nil {
		return nil, err
	}
	resp := &logical.Response{NoContent: true}
	if d.String("role") != "" {
		resp.Warn("role is not supported by Coffer and was ignored: the quota applies to every client")
	}
	return resp, nil
}

// trimSentinel is err's message after its sentinel's.
func trimSentinel(err error) string {
	msg := err.Error()
	if s := errors.Unwrap(err); s != nil && len(msg) > len(s.Error())+2 {
		return msg[len(s.Error())+2:]
	}
	return msg
}

func (c *Core) writeQuotaConfig(ctx context.Context, qs QuotaSink, d *logical.FieldData) (*logical.Response, error) {
	cfg, err := c.readQuotaConfig(ctx)
	if err != nil {
		return nil, err
	}
	if v, ok := d.GetOk("rate_limit_exempt_paths"); ok {
		paths := v.([]string)
		if paths == nil {
			paths = []string{}
		}
		cfg.ExemptPaths = &paths
	}
	if v, ok := d.GetOk("enable_rate_limit_response_headers"); ok {
		cfg.ResponseHeaders = v.(bool)
	}
	if err := c.putJSON(ctx, quotaConfigPath, cfg); err != nil {
		return nil, err
	}
	qs.SetQuotaConfig(cfg.config())
	return &logical.Response{NoContent: true}, nil
}

// lockoutPaths serve sys/locked-users (Vault) and sys/network/bans (Coffer).
func lockoutPaths(la LoginAdmin) []*logical.Path {
	return []*logical.Path{
		{Pattern: "locked-users/?", Help: "users locked out after failed logins",
			Fields: map[string]*logical.Field{"mount_accessor": {Type: logical.TypeString}},
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					return lockedUsersResponse(la.LockedUsers(), d.String("mount_accessor")), nil
				}})},
		{Pattern: "locked-users/(?P<mount_accessor>[^/]+)/unlock/(?P<alias_identifier>.+)", Help: "unlock a user",
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.UpdateOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					la.Unlock(d.String("mount_accessor"), d.String("alias_identifier"))
					return &logical.Response{NoContent: true}, nil
				}})},
		{Pattern: "network/bans/?", Help: "addresses banned after repeated login failures",
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					return bansResponse(la.Bans(), false), nil
				},
				logical.ListOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					return bansResponse(la.Bans(), true), nil
				}})},
		{Pattern: "network/bans/(?P<ip>[^/]+)", Help: "lift a ban",
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.DeleteOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					ip, err := netip.ParseAddr(d.String("ip"))
					if err != nil {
						return nil, logical.InvalidRequest("%q is not an IP address", d.String("ip"))
					}
					la.Unban(ip)
					return &logical.Response{NoContent: true}, nil
				}})},
	}
}

// lockedUsersResponse builds Vault's sys/locked-users shape (one root
// namespace), plus Coffer's "lockouts" with each lockout's address and end.
func lockedUsersResponse(users []netctl.LockedUser, accessor string) *logical.Response {
	type mountCount struct {
		accessor string
		users    []string
	}
	var mounts []*mountCount
	byMount := map[string]*mountCount{}
	seen := map[string]bool{}
	var lockouts []map[string]any
	total := 0
	for _, u := range users {
		if accessor != "" && u.MountAccessor != accessor {
			continue
		}
		lockouts = append(lockouts, map[string]any{"mount_accessor": u.MountAccessor, "alias_identifier": u.User,
			"client_ip": u.IP.String(), "locked_until": u.Until.UTC().Format(time.RFC3339)})
		m := byMount[u.MountAccessor]
		if m == nil {
			m = &mountCount{accessor: u.MountAccessor}
			byMount[u.MountAccessor] = m
			mounts = append(mounts, m)
		}
		if key := u.MountAccessor + "\x00" + u.User; !seen[key] {
			seen[key] = true
			m.users = append(m.users, u.User)
			total++
		}
	}
	accessors := make([]map[string]any, 0, len(mounts))
	for _, m := range mounts {
		accessors = append(accessors, map[string]any{"mount_accessor": m.accessor, "counts": len(m.users),
			"alias_identifiers": m.users})
	}
	ns := []map[string]any{}
	if total > 0 {
		ns = append(ns, map[string]any{"namespace_id": "root", "namespace_path": "", "counts": total,
			"mount_accessors": accessors})
	}
	return logical.DataResponse(map[string]any{"by_namespace": ns, "total": total, "lockouts": lockouts})
}

func bansResponse(bans []netctl.Ban, list bool) *logical.Response {
	if list {
		keys := make([]string, len(bans))
		for i, b := range bans {
			keys[i] = b.IP.String()
		}
		return logical.ListResponse(keys)
	}
	out := make([]map[string]any, len(bans))
	for i, b := range bans {
		out[i] = map[string]any{"ip": b.IP.String(), "expires": b.Until.UTC().Format(time.RFC3339)}
	}
	return logical.DataResponse(map[string]any{"bans": out})
}
