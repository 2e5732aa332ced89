package cert

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// asn1String encodes s as an ASN.1 UTF8String extension value.
func asn1String(t testing.TB, s string) []byte {
	t.Helper()
	b, err := asn1.MarshalWithParams(s, "utf8")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLoginVerification covers which presented chains each kind of trusted
// entry accepts.
func TestLoginVerification(t *testing.T) {
	root := NewTestCA(t, "root")
	inter := root.Intermediate(t, "intermediate")
	other := NewTestCA(t, "other")
	good := root.Leaf(t, LeafOpts{CN: "alice"})
	viaInter := inter.Leaf(t, LeafOpts{CN: "bob"})
	expired := root.Leaf(t, LeafOpts{CN: "old", NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	future := root.Leaf(t, LeafOpts{CN: "soon", NotBefore: time.Now().Add(time.Hour)})
	stranger := other.Leaf(t, LeafOpts{CN: "alice"})
	serverOnly := root.Leaf(t, LeafOpts{CN: "srv", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	pinned := root.Leaf(t, LeafOpts{CN: "pinned"})

	tests := []struct {
		name  string
		trust string
		chain []*x509.Certificate
		ok    bool
	}{
		{"leaf of the trusted root", root.PEM, []*x509.Certificate{good.Cert}, true},
		{"leaf via a presented intermediate", root.PEM, []*x509.Certificate{viaInter.Cert, inter.Cert}, true},
		{"intermediate not presented", root.PEM, []*x509.Certificate{viaInter.Cert}, false},
		{"trusting the intermediate alone", inter.PEM, []*x509.Certificate{viaInter.Cert}, true},
		{"expired leaf", root.PEM, []*x509.Certificate{expired.Cert}, false},
		{"leaf not yet valid", root.PEM, []*x509.Certificate{future.Cert}, false},
		{"leaf of another CA", root.PEM, []*x509.Certificate{stranger.Cert}, false},
		{"leaf of another CA presenting the trusted root", root.PEM, []*x509.Certificate{stranger.Cert, root.Cert}, false},
		{"server-auth-only leaf", root.PEM, []*x509.Certificate{serverOnly.Cert}, false},
		{"CA certificate presented as the leaf", root.PEM, []*x509.Certificate{root.Cert}, false},
		{"pinned leaf", pinned.PEM, []*x509.Certificate{pinned.Cert}, true},
		{"other leaf of the pinned leaf's CA", pinned.PEM, []*x509.Certificate{good.Cert}, false},
		{"bundle of two CAs", other.PEM + root.PEM, []*x509.Certificate{good.Cert}, true},
		{"no certificate", root.PEM, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBackend(t, nil)
			tb.mustWrite(t, "certs/web", map[string]any{"certificate": tt.trust, "token_policies": "p"})
			resp, err := tb.login("", "", tt.chain...)
			if !tt.ok {
				if !isRefusal(err) || resp != nil {
					t.Fatalf("login = %v, %v; want the fixed refusal", resp, err)
				}
				return
			}
			if err != nil || resp == nil || resp.Auth == nil {
				t.Fatalf("login = %v, %v; want an Auth", resp, err)
			}
			if got := resp.Auth.Metadata["cert_name"]; got != "web" {
				t.Errorf("cert_name = %q", got)
			}
		})
	}
}

// TestLoginClock: validity is judged by the backend's clock.
func TestLoginClock(t *testing.T) {
	root := NewTestCA(t, "root")
	leaf := root.Leaf(t, LeafOpts{CN: "alice"})
	for _, tt := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"now", time.Now(), true},
		{"after expiry", leaf.Cert.NotAfter.Add(time.Minute), false},
		{"before issue", leaf.Cert.NotBefore.Add(-time.Minute), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBackend(t, func() time.Time { return tt.at })
			tb.mustWrite(t, "certs/web", map[string]any{"certificate": root.PEM})
			_, err := tb.login("", "", leaf.Cert)
			if (err == nil) != tt.ok {
				t.Fatalf("login err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestLoginConstraints covers the allowed_* and required_extensions globs.
func TestLoginConstraints(t *testing.T) {
	root := NewTestCA(t, "root")
	extOID := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}
	leaf := root.Leaf(t, LeafOpts{CN: "app.example.com", DNS: []string{"app.internal", "api.internal"},
		Emails: []string{"ops@example.com"}, URIs: []string{"spiffe://example.org/ns/prod/sa/app"},
		OUs: []string{"payments"}, Extensions: []pkix.Extension{{Id: extOID, Value: asn1String(t, "tier-gold")}}})
	tests := []struct {
		name   string
		fields map[string]any
		ok     bool
	}{
		{"no constraints", nil, true},
		{"common name glob", map[string]any{"allowed_common_names": "*.example.com"}, true},
		{"common name not allowed", map[string]any{"allowed_common_names": "db.example.com,*.other.com"}, false},
		{"allowed_names matches a DNS SAN", map[string]any{"allowed_names": "api.*"}, true},
		{"allowed_names matches the email", map[string]any{"allowed_names": "ops@*"}, true},
		{"allowed_names matches nothing", map[string]any{"allowed_names": "nobody"}, false},
		{"dns san glob", map[string]any{"allowed_dns_sans": []any{"*.internal"}}, true},
		{"dns san not allowed", map[string]any{"allowed_dns_sans": "*.external"}, false},
		{"email san", map[string]any{"allowed_email_sans": "*@example.com"}, true},
		{"email san not allowed", map[string]any{"allowed_email_sans": "*@example.org"}, false},
		{"uri san", map[string]any{"allowed_uri_sans": "spiffe://example.org/ns/prod/*"}, true},
		{"uri san not allowed", map[string]any{"allowed_uri_sans": "spiffe://example.org/ns/dev/*"}, false},
		{"organizational unit", map[string]any{"allowed_organizational_units": "pay*"}, true},
		{"organizational unit not allowed", map[string]any{"allowed_organizational_units": "hr"}, false},
		{"required extension value glob", map[string]any{"required_extensions": "1.3.6.1.4.1.99999.1:tier-*"}, true},
		{"required extension any value", map[string]any{"required_extensions": "1.3.6.1.4.1.99999.1:*"}, true},
		{"required extension wrong value", map[string]any{"required_extensions": "1.3.6.1.4.1.99999.1:tier-silver"}, false},
		{"required extension absent", map[string]any{"required_extensions": "1.3.6.1.4.1.99999.2:*"}, false},
		{"every constraint must hold", map[string]any{"allowed_common_names": "app.*", "allowed_dns_sans": "*.external"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBackend(t, nil)
			data := map[string]any{"certificate": root.PEM}
			for k, v := range tt.fields {
				data[k] = v
			}
			tb.mustWrite(t, "certs/web", data)
			resp, err := tb.login("", "", leaf.Cert)
			if tt.ok != (err == nil) {
				t.Fatalf("login = %v, %v; want ok=%v", resp, err, tt.ok)
			}
			if !tt.ok && !isRefusal(err) {
				t.Fatalf("refusal %v is not the fixed one", err)
			}
		})
	}
}

// TestLoginCRL: a CRL refuses its serials, for leaves and intermediates,
// until it is deleted.
func TestLoginCRL(t *testing.T) {
	root := NewTestCA(t, "root")
	inter := root.Intermediate(t, "intermediate")
	revoked := root.Leaf(t, LeafOpts{CN: "revoked"})
	fine := root.Leaf(t, LeafOpts{CN: "fine"})
	viaInter := inter.Leaf(t, LeafOpts{CN: "via"})

	tb := newTestBackend(t, nil)
	tb.mustWrite(t, "certs/web", map[string]any{"certificate": root.PEM})
	tb.mustWrite(t, "crls/leaves", map[string]any{"crl": root.CRL(t, revoked.Cert)})
	tb.mustWrite(t, "crls/cas", map[string]any{"crl": root.CRL(t, inter.Cert)})
	for _, tt := range []struct {
		name  string
		chain []*x509.Certificate
		ok    bool
	}{
		{"revoked leaf", []*x509.Certificate{revoked.Cert}, false},
		{"unrevoked leaf", []*x509.Certificate{fine.Cert}, true},
		{"leaf under a revoked intermediate", []*x509.Certificate{viaInter.Cert, inter.Cert}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tb.login("", "", tt.chain...)
			if tt.ok != (err == nil) || (err != nil && !isRefusal(err)) {
				t.Fatalf("login err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	if _, err := tb.Do(logical.DeleteOperation, "crls/leaves", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.login("", "", revoked.Cert); err != nil {
		t.Fatalf("login after the CRL was deleted: %v", err)
	}
	t.Run("pinned revoked leaf", func(t *testing.T) {
		tb := newTestBackend(t, nil)
		tb.mustWrite(t, "certs/pin", map[string]any{"certificate": revoked.PEM})
		tb.mustWrite(t, "crls/leaves", map[string]any{"crl": root.CRL(t, revoked.Cert)})
		if _, err := tb.login("", "", revoked.Cert); !isRefusal(err) {
			t.Fatalf("login err = %v, want the refusal", err)
		}
	})
}

// TestLoginAuth checks what a successful login hands the core.
func TestLoginAuth(t *testing.T) {
	root := NewTestCA(t, "root")
	oid := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 7}
	leaf := root.Leaf(t, LeafOpts{CN: "alice", SubjectKeyID: []byte{0x0a, 0xbc, 0x01},
		Extensions: []pkix.Extension{{Id: oid, Value: asn1String(t, "team-a")}}})
	tb := newTestBackend(t, nil)
	tb.mustWrite(t, "certs/web", map[string]any{"certificate": root.PEM, "token_policies": "read,write",
		"token_ttl": "1h", "token_max_ttl": "2h", "allowed_metadata_extensions": "1.3.6.1.4.1.99999.7,1.2.3"})
	resp, err := tb.login("", "", leaf.Cert)
	if err != nil {
		t.Fatal(err)
	}
	a := resp.Auth
	want := map[string]string{
		"cert_name": "web", "common_name": "alice", "serial_number": leaf.Cert.SerialNumber.String(),
		"subject_key_id": "0a:bc:01", "authority_key_id": hexColons(root.Cert.SubjectKeyId),
		"1-3-6-1-4-1-99999-7": "team-a",
	}
	if len(a.Metadata) != len(want) {
		t.Errorf("metadata = %v, want %v", a.Metadata, want)
	}
	for k, v := range want {
		if a.Metadata[k] != v {
			t.Errorf("metadata[%s] = %q, want %q", k, a.Metadata[k], v)
		}
	}
	if a.Alias == nil || a.Alias.Name != "alice" || a.Alias.Metadata != nil {
		t.Errorf("alias = %+v, want alice without metadata", a.Alias)
	}
	if a.DisplayName != "web" || a.TTL != time.Hour || a.MaxTTL != 2*time.Hour ||
		strings.Join(a.Policies, ",") != "read,write" || a.ClientToken != "" {
		t.Errorf("auth = %+v", a)
	}

	tb.mustWrite(t, "config", map[string]any{"enable_identity_alias_metadata": true})
	tb.mustWrite(t, "certs/web", map[string]any{"display_name": "frontend"})
	resp, err = tb.login("", "", leaf.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if md := resp.Auth.Alias.Metadata; md["common_name"] != "alice" || md["cert_name"] != "web" {
		t.Errorf("alias metadata = %v, want the certificate metadata", md)
	}
	if resp.Auth.DisplayName != "frontend" {
		t.Errorf("display name = %q after update", resp.Auth.DisplayName)
	}
}

// TestLoginPicksEntry: the named entry is the only one tried; without a
// name the first accepting entry in name order wins.
func TestLoginPicksEntry(t *testing.T) {
	root := NewTestCA(t, "root")
	leaf := root.Leaf(t, LeafOpts{CN: "alice"})
	tb := newTestBackend(t, nil)
	tb.mustWrite(t, "certs/b-broad", map[string]any{"certificate": root.PEM, "token_policies": "broad"})
	tb.mustWrite(t, "certs/a-narrow", map[string]any{"certificate": root.PEM, "allowed_common_names": "bob", "token_policies": "narrow"})
	tb.mustWrite(t, "certs/c-other", map[string]any{"certificate": root.PEM, "token_policies": "other"})
	for _, tt := range []struct{ name, want string }{
		{"", "b-broad"}, {"c-other", "c-other"}, {"C-Other", "c-other"}, {"a-narrow", ""}, {"missing", ""}, {"a..b", ""},
	} {
		t.Run("name="+tt.name, func(t *testing.T) {
			resp, err := tb.login(tt.name, "", leaf.Cert)
			if tt.want == "" {
				if !isRefusal(err) {
					t.Fatalf("login = %v, %v; want the refusal", resp, err)
				}
				return
			}
			if err != nil || resp.Auth.Metadata["cert_name"] != tt.want {
				t.Fatalf("login = %v, %v; want entry %s", resp, err, tt.want)
			}
		})
	}
}

// TestLoginBoundCIDRs: token_bound_cidrs also limits where logins come
// from.
func TestLoginBoundCIDRs(t *testing.T) {
	root := NewTestCA(t, "root")
	leaf := root.Leaf(t, LeafOpts{CN: "alice"})
	tb := newTestBackend(t, nil)
	tb.mustWrite(t, "certs/web", map[string]any{"certificate": root.PEM, "token_bound_cidrs": "10.0.0.0/8"})
	for _, tt := range []struct {
		remote string
		ok     bool
	}{{"10.1.2.3", true}, {"192.168.1.1", false}, {"", false}} {
		t.Run(tt.remote, func(t *testing.T) {
			_, err := tb.login("", tt.remote, leaf.Cert)
			if tt.ok != (err == nil) || (err != nil && logical.KindOf(err) != logical.KindPermissionDenied) {
				t.Fatalf("login from %q: %v, want ok=%v", tt.remote, err, tt.ok)
			}
		})
	}
}

// TestLoginPathIsUnauthenticated: only login is served without a token.
func TestLoginPathIsUnauthenticated(t *testing.T) {
	tb := newTestBackend(t, nil)
	for _, tt := range []struct {
		path string
		want bool
	}{{"login", true}, {"certs/web", false}, {"config", false}, {"crls/x", false}} {
		t.Run(tt.path, func(t *testing.T) {
			got, user := tb.b.LoginPath(&logical.Request{Path: tt.path, Operation: logical.UpdateOperation})
			if got != tt.want || user != "" {
				t.Fatalf("LoginPath(%s) = %v, %q", tt.path, got, user)
			}
		})
	}
}
