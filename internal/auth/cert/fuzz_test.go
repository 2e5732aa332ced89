package cert

import (
	"reflect"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

// FuzzCertWrite: a certs/<name> write of any text never panics, fails only
// with a 400, stores nothing when it fails, and when it succeeds stores the
// text as given, which parses to at least one certificate.
func FuzzCertWrite(f *testing.F) {
	root := NewTestCA(f, "root")
	leaf := root.Leaf(f, LeafOpts{CN: "alice"})
	for _, s := range []string{root.PEM, leaf.PEM, root.PEM + leaf.PEM, "", "x", leaf.KeyPEM(f),
		"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"junk\n" + root.PEM + "-----BEGIN X509 CRL-----\nAA==\n-----END X509 CRL-----\n", root.CRL(f, leaf.Cert)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tb := newTestBackend(t, nil)
		_, err := tb.Do(logical.UpdateOperation, "certs/x", map[string]any{"certificate": text})
		resp, rerr := tb.Do(logical.ReadOperation, "certs/x", nil)
		if rerr != nil {
			t.Fatalf("read: %v", rerr)
		}
		if err != nil {
			if logical.KindOf(err) != logical.KindInvalidRequest {
				t.Fatalf("write error %v is not a 400", err)
			}
			if resp != nil {
				t.Fatal("a refused write was stored")
			}
			return
		}
		if resp == nil || resp.Data["certificate"] != text {
			t.Fatalf("stored certificate differs from the written text")
		}
		certs, err := parseCertificates(text)
		if err != nil || len(certs) == 0 {
			t.Fatalf("accepted text does not parse again: %v", err)
		}
	})
}

// FuzzCRLWrite: a crls/<name> write of any text never panics, fails only
// with a 400, and on success stores sorted, distinct serials that a second
// parse reproduces.
func FuzzCRLWrite(f *testing.F) {
	root := NewTestCA(f, "root")
	leaf := root.Leaf(f, LeafOpts{CN: "alice"})
	for _, s := range []string{root.CRL(f), root.CRL(f, leaf.Cert), root.PEM, "", "x",
		"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tb := newTestBackend(t, nil)
		_, err := tb.Do(logical.UpdateOperation, "crls/x", map[string]any{"crl": text})
		if err != nil {
			if logical.KindOf(err) != logical.KindInvalidRequest {
				t.Fatalf("write error %v is not a 400", err)
			}
			return
		}
		info, err := parseCRL(text)
		if err != nil {
			t.Fatalf("accepted CRL does not parse again: %v", err)
		}
		revoked, err := loadCRLs(t.Context(), tb.Storage)
		if err != nil || len(revoked) != len(info.Serials) {
			t.Fatalf("stored %d serials, parsed %d: %v", len(revoked), len(info.Serials), err)
		}
		for i := 1; i < len(info.Serials); i++ {
			if info.Serials[i-1] >= info.Serials[i] {
				t.Fatalf("serials not sorted and distinct: %v", info.Serials)
			}
		}
		if !reflect.DeepEqual(info, mustParseCRL(t, text)) {
			t.Fatal("parsing is not deterministic")
		}
	})
}

func mustParseCRL(t *testing.T, text string) *crlInfo {
	t.Helper()
	info, err := parseCRL(text)
	if err != nil {
		t.Fatal(err)
	}
	return info
}
