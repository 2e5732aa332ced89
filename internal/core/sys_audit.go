package core

import (
	"context"
	"encoding/base64"
	"errors"
	"time"

	"github.com/cofferdev/coffer/internal/audit"
	"github.com/cofferdev/coffer/internal/logical"
)

// errAuditConfigOnly answers every attempt to enable or disable a sink over
// the API: sinks come from the config file only, so an API caller can never
// make the server write files or open sockets of its choosing.
var errAuditConfigOnly = logical.Errorf(logical.KindUnsupportedOperation,
	"audit sinks are declared in the server's config file (audit blocks) and cannot be enabled or disabled over the API; edit the config and restart the server")

// auditPaths serve sys/audit (read-only), sys/audit/public-key and
// sys/audit-hash/<sink>.
func (c *Core) auditPaths() []*logical.Path {
	refuse := func(context.Context, *logical.Request, *logical.FieldData) (*logical.Response, error) {
		return nil, errAuditConfigOnly
	}
	refuseAll := map[logical.Operation]logical.Handler{
		logical.CreateOperation: refuse, logical.UpdateOperation: refuse, logical.DeleteOperation: refuse,
	}
	sinkOps := map[logical.Operation]logical.Handler{logical.ReadOperation: c.handleAuditSink}
	for op, h := range refuseAll {
		sinkOps[op] = h
	}
	return []*logical.Path{
		{Pattern: "audit/?", Help: "list the audit sinks (read-only)",
			Operations: map[logical.Operation]logical.Handler{
				logical.ReadOperation: c.handleAuditList, logical.UpdateOperation: refuse, logical.DeleteOperation: refuse}},
		{Pattern: "audit/public-key", Help: "the audit checkpoint public key",
			Operations: map[logical.Operation]logical.Handler{logical.ReadOperation: c.handleAuditPublicKey}},
		{Pattern: "audit/(?P<name>.+)", Help: "one audit sink (read-only)", Operations: sinkOps},
		{Pattern: "audit-hash/(?P<name>.+)", Help: "hash a value as an audit sink writes it",
			Fields:     map[string]*logical.Field{"input": {Type: logical.TypeString, Description: "value to hash"}},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: c.handleAuditHash}},
	}
}

// sinkInfo is one sink in Vault's sys/audit shape plus Coffer's counters.
func sinkInfo(s audit.SinkStatus) map[string]any {
	opt := map[string]string{"mode": s.Mode}
	switch s.Type {
	case "file":
		opt["file_path"] = s.Destination
	case "socket":
		opt["address"] = s.Destination
	}
	info := map[string]any{
		"type": s.Type, "path": s.Name + "/", "description": "", "local": false, "options": opt,
		"mode": s.Mode, "destination": s.Destination, "entries": s.Entries, "failures": s.Failures,
		"last_error": s.LastError,
	}
	if !s.LastErrorAt.IsZero() {
		info["last_error_time"] = s.LastErrorAt.UTC().Format(time.RFC3339Nano)
	}
	return info
}

func (c *Core) handleAuditList(context.Context, *logical.Request, *logical.FieldData) (*logical.Response, error) {
	data := map[string]any{}
	for _, s := range c.audit.Status() {
		data[s.Name+"/"] = sinkInfo(s)
	}
	return logical.DataResponse(data), nil
}

func (c *Core) handleAuditSink(_ context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	for _, s := range c.audit.Status() {
		if s.Name == d.String("name") {
			return logical.DataResponse(sinkInfo(s)), nil
		}
	}
	return nil, nil
}

func (c *Core) handleAuditPublicKey(context.Context, *logical.Request, *logical.FieldData) (*logical.Response, error) {
	if !c.audit.Enabled() {
		return nil, logical.Errorf(logical.KindUnsupportedPath, "no audit sinks are configured, so there is no checkpoint key")
	}
	pub := c.audit.PublicKey()
	if pub == nil {
		return nil, errors.New("core: audit keys not loaded while unsealed")
	}
	return logical.DataResponse(map[string]any{"public_key": base64.StdEncoding.EncodeToString(pub)}), nil
}

func (c *Core) handleAuditHash(_ context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	if !c.audit.Enabled() {
		return nil, logical.InvalidRequest("unknown audit sink %q", d.String("name"))
	}
	h, err := c.audit.Hash(d.String("name"), d.String("input"))
	if errors.Is(err, audit.ErrUnknownSink) {
		return nil, logical.InvalidRequest("unknown audit sink %q", d.String("name"))
	}
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"hash": h}), nil
}
