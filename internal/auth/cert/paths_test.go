package cert

import (
	"context"
	"crypto/x509"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// TestCertWriteValidation: what a certs/<name> write accepts and refuses.
func TestCertWriteValidation(t *testing.T) {
	root := NewTestCA(t, "root")
	leaf := root.Leaf(t, LeafOpts{CN: "alice"})
	serverLeaf := root.Leaf(t, LeafOpts{CN: "srv", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	tests := []struct {
		name    string
		path    string
		data    map[string]any
		wantErr string
	}{
		{"CA certificate", "certs/web", map[string]any{"certificate": root.PEM}, ""},
		{"pinned client leaf", "certs/web", map[string]any{"certificate": leaf.PEM}, ""},
		{"text around the PEM", "certs/web", map[string]any{"certificate": "subject=CN=root\n" + root.PEM + "\ntrailer"}, ""},
		{"missing certificate", "certs/web", map[string]any{"display_name": "x"}, "missing certificate"},
		{"not PEM", "certs/web", map[string]any{"certificate": "hello"}, "no PEM certificate found"},
		{"garbage DER", "certs/web", map[string]any{"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, "failed to parse certificate 1"},
		{"private key", "certs/web", map[string]any{"certificate": root.PEM + leaf.KeyPEM(t)}, "must not contain a private key"},
		{"other block type", "certs/web", map[string]any{"certificate": "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n"}, "not a CERTIFICATE"},
		{"leaf without client auth", "certs/web", map[string]any{"certificate": serverLeaf.PEM}, "TLS client authentication"},
		{"bad required extension", "certs/web", map[string]any{"certificate": root.PEM, "required_extensions": "1.2.3"}, "<oid>:<value>"},
		{"bad required extension oid", "certs/web", map[string]any{"certificate": root.PEM, "required_extensions": "x.y:z"}, "invalid object identifier"},
		{"bad metadata extension", "certs/web", map[string]any{"certificate": root.PEM, "allowed_metadata_extensions": "1"}, "invalid object identifier"},
		{"ttl above max", "certs/web", map[string]any{"certificate": root.PEM, "token_ttl": "2h", "token_max_ttl": "1h"}, "exceeds"},
		{"a malformed block after a good one", "certs/web", map[string]any{"certificate": root.PEM + "-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n"}, "malformed"},
		{"invalid UTF-8", "certs/web", map[string]any{"certificate": root.PEM + "\xff"}, "UTF-8"},
		{"dotted name", "certs/a..b", map[string]any{"certificate": root.PEM}, "invalid name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBackend(t, nil)
			_, err := tb.Do(logical.UpdateOperation, tt.path, tt.data)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("write: %v", err)
				}
				return
			}
			if logical.KindOf(err) != logical.KindInvalidRequest || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("write err = %v, want a 400 containing %q", err, tt.wantErr)
			}
			if resp, err := tb.Do(logical.ReadOperation, tt.path, nil); resp != nil || (err != nil && logical.KindOf(err) != logical.KindInvalidRequest) {
				t.Fatalf("read after a refused write = %v, %v", resp, err)
			}
		})
	}
}

// TestCertCRUD: read shows what was written, updates change only the fields
// sent, list and delete work, and names are case-insensitive.
func TestCertCRUD(t *testing.T) {
	root := NewTestCA(t, "root")
	tb := newTestBackend(t, nil)
	resp := tb.mustWrite(t, "certs/Web", map[string]any{"certificate": root.PEM, "allowed_common_names": "a*,b",
		"token_policies": "p2,p1", "token_ttl": 60, "ocsp_enabled": true})
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "OCSP") {
		t.Errorf("warnings = %v, want one about OCSP", resp.Warnings)
	}
	tb.mustWrite(t, "certs/web", map[string]any{"display_name": "front"})
	tb.mustWrite(t, "certs/api", map[string]any{"certificate": root.PEM})

	resp, err := tb.Do(logical.ReadOperation, "certs/WEB", nil)
	if err != nil || resp == nil {
		t.Fatalf("read = %v, %v", resp, err)
	}
	checks := map[string]any{
		"certificate": root.PEM, "display_name": "front", "allowed_common_names": []string{"a*", "b"},
		"allowed_dns_sans": []string{}, "token_policies": []string{"p1", "p2"}, "policies": []string{"p1", "p2"},
		"token_ttl": int64(60), "ocsp_enabled": false,
	}
	for k, want := range checks {
		if got := resp.Data[k]; !reflect.DeepEqual(got, want) {
			t.Errorf("read %s = %#v, want %#v", k, got, want)
		}
	}
	resp, err = tb.Do(logical.ReadOperation, "certs/api", nil)
	if err != nil || resp.Data["display_name"] != "api" {
		t.Errorf("display name defaults to the entry name: %v, %v", resp, err)
	}
	resp, err = tb.Do(logical.ListOperation, "certs/", nil)
	if err != nil || !reflect.DeepEqual(resp.Data["keys"], []string{"api", "web"}) {
		t.Fatalf("list = %v, %v", resp, err)
	}
	if _, err := tb.Do(logical.DeleteOperation, "certs/web", nil); err != nil {
		t.Fatal(err)
	}
	if resp, err := tb.Do(logical.ReadOperation, "certs/web", nil); resp != nil || err != nil {
		t.Fatalf("read after delete = %v, %v", resp, err)
	}
	checked, exists, err := tb.b.Exists(context.Background(), &logical.Request{Path: "certs/api", Storage: tb.Storage, Operation: logical.UpdateOperation})
	if !checked || !exists || err != nil {
		t.Fatalf("Exists(certs/api) = %v %v %v", checked, exists, err)
	}
}

// TestConfigPath: config reads its defaults, updates only what is sent and
// warns about the settings it ignores.
func TestConfigPath(t *testing.T) {
	tb := newTestBackend(t, nil)
	read := func() map[string]any {
		t.Helper()
		resp, err := tb.Do(logical.ReadOperation, "config", nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Data
	}
	if d := read(); d["disable_binding"] != false || d["enable_identity_alias_metadata"] != false {
		t.Fatalf("defaults = %v", d)
	}
	resp := tb.mustWrite(t, "config", map[string]any{"disable_binding": true, "ocsp_cache_size": 10})
	if len(resp.Warnings) != 1 {
		t.Errorf("warnings = %v, want one for ocsp_cache_size", resp.Warnings)
	}
	tb.mustWrite(t, "config", map[string]any{"enable_identity_alias_metadata": "true"})
	if d := read(); d["disable_binding"] != true || d["enable_identity_alias_metadata"] != true {
		t.Fatalf("after updates = %v", d)
	}
}

// TestCRLPath: CRLs are parsed, shown by serial, listed and deleted.
func TestCRLPath(t *testing.T) {
	root := NewTestCA(t, "root")
	a, b := root.Leaf(t, LeafOpts{CN: "a"}), root.Leaf(t, LeafOpts{CN: "b"})
	tb := newTestBackend(t, nil)
	for _, bad := range []map[string]any{{}, {"crl": "nope"}, {"crl": root.PEM},
		{"crl": "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"}} {
		if _, err := tb.Do(logical.UpdateOperation, "crls/bad", bad); logical.KindOf(err) != logical.KindInvalidRequest {
			t.Errorf("write %v: err %v, want a 400", bad, err)
		}
	}
	tb.mustWrite(t, "crls/main", map[string]any{"crl": root.CRL(t, a.Cert, b.Cert, a.Cert)})
	resp, err := tb.Do(logical.ReadOperation, "crls/main", nil)
	if err != nil {
		t.Fatal(err)
	}
	serials := resp.Data["serials"].(map[string]any)
	if len(serials) != 2 || serials[a.Cert.SerialNumber.String()] == nil || serials[b.Cert.SerialNumber.String()] == nil {
		t.Fatalf("serials = %v", serials)
	}
	resp, err = tb.Do(logical.ListOperation, "crls", nil)
	if err != nil || !reflect.DeepEqual(resp.Data["keys"], []string{"main"}) {
		t.Fatalf("list = %v, %v", resp, err)
	}
	if _, err := tb.Do(logical.DeleteOperation, "crls/main", nil); err != nil {
		t.Fatal(err)
	}
	if resp, err := tb.Do(logical.ListOperation, "crls", nil); resp != nil || err != nil {
		t.Fatalf("list after delete = %v, %v", resp, err)
	}
}

// TestFactory: a backend needs storage.
func TestFactory(t *testing.T) {
	for _, conf := range []*logical.BackendConfig{nil, {}} {
		if _, err := Factory(context.Background(), conf); !errors.Is(err, ErrNilConfig) {
			t.Errorf("Factory(%v) err = %v, want ErrNilConfig", conf, err)
		}
	}
	tb := newTestBackend(t, time.Now)
	if _, err := tb.Do(logical.ReadOperation, "nope", nil); logical.KindOf(err) != logical.KindUnsupportedPath {
		t.Errorf("unknown path: %v", err)
	}
}
