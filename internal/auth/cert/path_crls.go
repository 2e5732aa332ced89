package cert

import (
	"context"
	"fmt"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
)

func (b *Backend) crlsListPath() *logical.Path {
	return &logical.Path{
		Pattern: `crls/?`,
		Operations: map[logical.Operation]logical.Handler{
			logical.ListOperation: func(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
				names, err := listNames(ctx, req.Storage, crlPrefix)
				if err != nil {
					return nil, err
				}
				return logical.ListResponse(names), nil
			},
		},
		Help: "List the stored CRLs.",
	}
}

func (b *Backend) crlsPath() *logical.Path {
	return &logical.Path{
		Pattern: `crls/` + namePattern,
		Fields: map[string]*logical.Field{
			"crl": {Type: logical.TypeString, Description: "a PEM CRL; its revoked serials are refused at login"},
		},
		Operations: map[logical.Operation]logical.Handler{
			logical.ReadOperation:   b.handleCRLRead,
			logical.UpdateOperation: b.handleCRLWrite,
			logical.DeleteOperation: b.handleCRLDelete,
		},
		Help: "Manage a CRL whose revoked certificates may not log in.",
	}
}

// handleCRLRead shows the revoked serials as Vault does: an object keyed by
// decimal serial number.
func (b *Backend) handleCRLRead(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := strings.ToLower(d.String("name"))
	if err := checkName(name); err != nil {
		return nil, err
	}
	var info crlInfo
	ok, err := getJSON(ctx, req.Storage, crlPrefix+name, &info)
	if err != nil || !ok {
		return nil, err
	}
	serials := make(map[string]any, len(info.Serials))
	for _, s := range info.Serials {
		serials[s] = map[string]any{}
	}
	return logical.DataResponse(map[string]any{"serials": serials}), nil
}

func (b *Backend) handleCRLWrite(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := strings.ToLower(d.String("name"))
	if err := checkName(name); err != nil {
		return nil, err
	}
	text := d.String("crl")
	if strings.TrimSpace(text) == "" {
		return nil, logical.InvalidRequest("missing crl")
	}
	info, err := parseCRL(text)
	if err != nil {
		return nil, err
	}
	if err := putJSON(ctx, req.Storage, crlPrefix+name, info); err != nil {
		return nil, err
	}
	return &logical.Response{NoContent: true}, nil
}

func (b *Backend) handleCRLDelete(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := strings.ToLower(d.String("name"))
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := req.Storage.Delete(ctx, crlPrefix+name); err != nil {
		return nil, fmt.Errorf("cert: delete CRL %s: %w", name, err)
	}
	return &logical.Response{NoContent: true}, nil
}
