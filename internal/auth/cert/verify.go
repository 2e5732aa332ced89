package cert

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/cofferdev/coffer/internal/storage"
)

// trusted is a stored entry with its certificates parsed: CA certificates
// a client chain may end in, and leaf certificates pinned as they are.
type trusted struct {
	entry  *certEntry
	roots  *x509.CertPool
	pinned []*x509.Certificate
}

func parseTrusted(e *certEntry) (*trusted, error) {
	certs, err := parseCertificates(e.Certificate)
	if err != nil {
		return nil, fmt.Errorf("%w: cert/%s", ErrCorruptEntry, e.Name)
	}
	t := &trusted{entry: e}
	for _, c := range certs {
		if !c.IsCA {
			t.pinned = append(t.pinned, c)
			continue
		}
		if t.roots == nil {
			t.roots = x509.NewCertPool()
		}
		t.roots.AddCert(c)
	}
	return t, nil
}

// accepts reports whether the presented leaf (with the presented
// intermediates) is trusted by this entry at now: it is a pinned
// certificate, valid now, or it chains to one of the entry's CAs with
// client-auth key usage and every certificate valid now; and some such
// chain holds no revoked serial.
func (t *trusted) accepts(leaf *x509.Certificate, inter *x509.CertPool, now time.Time, revoked map[string]bool) bool {
	for _, p := range t.pinned {
		if bytes.Equal(p.Raw, leaf.Raw) && !now.Before(leaf.NotBefore) && !now.After(leaf.NotAfter) &&
			clientAuthAllowed(leaf) && !revoked[leaf.SerialNumber.String()] {
			return true
		}
	}
	if t.roots == nil {
		return false
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: t.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return false
	}
	for _, chain := range chains {
		if !chainRevoked(chain, revoked) {
			return true
		}
	}
	return false
}

// chainRevoked reports whether any certificate of chain has a revoked
// serial. Serials are matched without their issuer, as Vault does: a CRL
// can only refuse more certificates, never admit one.
func chainRevoked(chain []*x509.Certificate, revoked map[string]bool) bool {
	for _, c := range chain {
		if revoked[c.SerialNumber.String()] {
			return true
		}
	}
	return false
}

// matchesConstraints applies an entry's allowed_* and required_extensions
// settings to the leaf: every non-empty list must match.
func matchesConstraints(leaf *x509.Certificate, e *certEntry) bool {
	cn := leaf.Subject.CommonName
	names := append(append([]string{cn}, leaf.DNSNames...), leaf.EmailAddresses...)
	uris := make([]string, 0, len(leaf.URIs))
	for _, u := range leaf.URIs {
		uris = append(uris, u.String())
	}
	return anyGlob(e.AllowedNames, names) &&
		anyGlob(e.AllowedCommonNames, []string{cn}) &&
		anyGlob(e.AllowedDNSSANs, leaf.DNSNames) &&
		anyGlob(e.AllowedEmailSANs, leaf.EmailAddresses) &&
		anyGlob(e.AllowedURISANs, uris) &&
		anyGlob(e.AllowedOUs, leaf.Subject.OrganizationalUnit) &&
		matchesExtensions(leaf, e.RequiredExtensions)
}

// match returns the first entry, in name order, that trusts the presented
// chain (leaf first) and whose constraints the leaf meets; only the named
// entry is tried when name is set. It returns nil when none does.
func (b *Backend) match(ctx context.Context, s storage.Backend, presented []*x509.Certificate, name string) (*certEntry, error) {
	leaf := presented[0]
	if leaf.IsCA {
		return nil, nil
	}
	names := []string{name}
	if name == "" {
		var err error
		if names, err = listNames(ctx, s, certPrefix); err != nil {
			return nil, err
		}
	}
	revoked, err := loadCRLs(ctx, s)
	if err != nil {
		return nil, err
	}
	inter := x509.NewCertPool()
	for _, c := range presented[1:] {
		inter.AddCert(c)
	}
	now := b.now()
	for _, n := range names {
		e, err := loadEntry(ctx, s, n)
		if err != nil {
			return nil, err
		}
		if e == nil || !matchesConstraints(leaf, e) {
			continue
		}
		t, err := parseTrusted(e)
		if err != nil {
			return nil, err
		}
		if t.accepts(leaf, inter, now, revoked) {
			return e, nil
		}
	}
	return nil, nil
}
