package cert

import (
	"context"
	"fmt"
	"strings"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/auth/tokenutil"
	"github.com/cofferdev/coffer/internal/logical"
)

// ocspFields are Vault's OCSP settings. Coffer does not query OCSP
// responders; the fields are accepted so existing clients keep working, and
// a write that sets any of them gets a warning.
func ocspFields() map[string]logical.FieldType {
	return map[string]logical.FieldType{
		"ocsp_enabled": logical.TypeBool, "ocsp_ca_certificates": logical.TypeString,
		"ocsp_servers_override": logical.TypeStringSlice, "ocsp_fail_open": logical.TypeBool,
		"ocsp_query_all_servers": logical.TypeBool, "ocsp_this_update_max_age": logical.TypeDuration,
		"ocsp_max_retries": logical.TypeInt,
	}
}

// ocspWarning is sent when a write sets an ocsp_* field.
const ocspWarning = "OCSP checking is not supported: the ocsp_* settings are ignored; revoke certificates with crls/<name> instead"

// listFields are the allowed_* and extension lists of an entry, by field
// name.
func listFields(e *certEntry) map[string]*[]string {
	return map[string]*[]string{
		"allowed_names": &e.AllowedNames, "allowed_common_names": &e.AllowedCommonNames,
		"allowed_dns_sans": &e.AllowedDNSSANs, "allowed_email_sans": &e.AllowedEmailSANs,
		"allowed_uri_sans": &e.AllowedURISANs, "allowed_organizational_units": &e.AllowedOUs,
		"required_extensions": &e.RequiredExtensions, "allowed_metadata_extensions": &e.AllowedMetadataExtensions,
	}
}

func (b *Backend) certsListPath() *logical.Path {
	return &logical.Path{
		Pattern: `certs/?`,
		Operations: map[logical.Operation]logical.Handler{
			logical.ListOperation: func(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
				names, err := listNames(ctx, req.Storage, certPrefix)
				if err != nil {
					return nil, err
				}
				return logical.ListResponse(names), nil
			},
		},
		Help: "List the trusted certificate entries.",
	}
}

func (b *Backend) certsPath() *logical.Path {
	fields := map[string]*logical.Field{
		"certificate":  {Type: logical.TypeString, Description: "PEM CA certificate(s) or leaf certificate(s) to pin"},
		"display_name": {Type: logical.TypeString, Description: "name of issued tokens; defaults to the entry name"},
	}
	for name := range listFields(&certEntry{}) {
		fields[name] = &logical.Field{Type: logical.TypeStringSlice}
	}
	for name, typ := range ocspFields() {
		fields[name] = &logical.Field{Type: typ, Description: "ignored: OCSP is not supported"}
	}
	return &logical.Path{
		Pattern: `certs/` + namePattern,
		Fields:  tokenutil.AddFields(fields),
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   b.handleCertRead,
			logical.UpdateOperation: b.handleCertWrite,
			logical.DeleteOperation: b.handleCertDelete,
		},
		Existence: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
			name := strings.ToLower(d.String("name"))
			if checkName(name) != nil {
				return false, nil
			}
			e, err := loadEntry(ctx, req.Storage, name)
			return e != nil, err
		},
		Help: "Manage a trusted certificate entry and the tokens its logins get.",
	}
}

func (b *Backend) handleCertRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := strings.ToLower(d.String("name"))
	if err := checkName(name); err != nil {
		return nil, err
	}
	e, err := loadEntry(ctx, req.Storage, name)
	if err != nil || e == nil {
		return nil, err
	}
	data := map[string]any{"certificate": e.Certificate, "display_name": e.DisplayName}
	for name, list := range listFields(e) {
		data[name] = authutil.NonNil(*list)
	}
	data["ocsp_enabled"], data["ocsp_ca_certificates"], data["ocsp_servers_override"] = false, "", []string{}
	data["ocsp_fail_open"], data["ocsp_query_all_servers"] = false, false
	e.Params.Data(data)
	if len(e.Policies) > 0 {
		data["policies"] = data["token_policies"]
	}
	return logical.DataResponse(data), nil
}

// handleCertWrite creates an entry (certificate required) or updates the
// fields the client sent on an existing one.
func (b *Backend) handleCertWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := strings.ToLower(d.String("name"))
	if err := checkName(name); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e, err := loadEntry(ctx, req.Storage, name)
	if err != nil {
		return nil, err
	}
	if e == nil {
		if strings.TrimSpace(d.String("certificate")) == "" {
			return nil, logical.InvalidRequest("missing certificate")
		}
		e = &certEntry{Name: name}
	}
	if err := applyCertFields(e, d); err != nil {
		return nil, err
	}
	if err := putJSON(ctx, req.Storage, certPrefix+name, e); err != nil {
		return nil, err
	}
	resp := &logical.Response{NoContent: true}
	for field := range ocspFields() {
		if _, ok := d.GetOk(field); ok {
			resp.Warn(ocspWarning)
			break
		}
	}
	return resp, nil
}

// applyCertFields updates e from the fields the client sent and validates
// the result.
func applyCertFields(e *certEntry, d *logical.FieldData) error {
	if v, ok := d.GetOk("certificate"); ok {
		if _, err := parseCertificates(v.(string)); err != nil {
			return err
		}
		e.Certificate = v.(string)
	}
	if v, ok := d.GetOk("display_name"); ok {
		e.DisplayName = v.(string)
	}
	if e.DisplayName == "" {
		e.DisplayName = e.Name
	}
	for name, list := range listFields(e) {
		if v, ok := d.GetOk(name); ok {
			*list = v.([]string)
		}
	}
	if err := checkRequiredExtensions(e.RequiredExtensions); err != nil {
		return err
	}
	for _, oid := range e.AllowedMetadataExtensions {
		if _, err := parseOID(oid); err != nil {
			return logical.InvalidRequest("allowed_metadata_extensions: %v", err)
		}
	}
	return e.Params.Parse(d)
}

func (b *Backend) handleCertDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := strings.ToLower(d.String("name"))
	if err := checkName(name); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := req.Storage.Delete(ctx, certPrefix+name); err != nil {
		return nil, fmt.Errorf("cert: delete %s: %w", name, err)
	}
	return &logical.Response{NoContent: true}, nil
}
