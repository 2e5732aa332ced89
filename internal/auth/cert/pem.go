package cert

import (
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cofferdev/coffer/internal/logical"
)

// maxCertsPerEntry bounds how many certificates one trusted entry holds, so
// a login's chain building stays cheap.
const maxCertsPerEntry = 100

// Block types accepted in the certificate and crl fields.
const (
	pemCertificate = "CERTIFICATE"
	pemCRL         = "X509 CRL"
)

// parseCertificates decodes the PEM certificates of a trusted entry. Text
// around the blocks (such as openssl's "subject=" lines) is ignored; any
// other block type is refused, private keys above all, so key material is
// never stored as trust configuration. Errors are invalid-request errors.
func parseCertificates(text string) ([]*x509.Certificate, error) {
	if !utf8.ValidString(text) {
		return nil, logical.InvalidRequest("certificate is not valid UTF-8 text")
	}
	var out []*x509.Certificate
	rest := []byte(text)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if strings.Contains(block.Type, "PRIVATE KEY") {
			return nil, logical.InvalidRequest("certificate must not contain a private key")
		}
		if block.Type != pemCertificate {
			return nil, logical.InvalidRequest("certificate holds a PEM block that is not a CERTIFICATE")
		}
		if len(out) == maxCertsPerEntry {
			return nil, logical.InvalidRequest("certificate holds more than %d certificates", maxCertsPerEntry)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, logical.InvalidRequest("failed to parse certificate %d: %v", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, logical.InvalidRequest("failed to parse certificate: no PEM certificate found")
	}
	// pem.Decode skips a block it cannot decode; refuse instead, so no
	// certificate the operator meant to trust is silently dropped.
	if strings.Count(text, "-----BEGIN ") != len(out) {
		return nil, logical.InvalidRequest("failed to parse certificate: a PEM block is malformed")
	}
	for _, c := range out {
		if !c.IsCA && !clientAuthAllowed(c) {
			return nil, logical.InvalidRequest("nonCA certificates should have TLS client authentication set as an extended key usage")
		}
	}
	return out, nil
}

// clientAuthAllowed reports whether c may be used for TLS client
// authentication: no extended key usage (any use) or one naming it.
func clientAuthAllowed(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageClientAuth) ||
		slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny)
}

// crlInfo is what is stored of a CRL: the revoked serial numbers, as
// decimal strings, sorted and without duplicates.
type crlInfo struct {
	Serials []string `json:"serials"`
}

// parseCRL decodes one PEM CRL ("X509 CRL" block). Its signature is not
// checked: CRLs are trust configuration written by an operator, as in
// Vault. Errors are invalid-request errors.
func parseCRL(text string) (*crlInfo, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, logical.InvalidRequest("failed to parse CRL: no PEM block found")
	}
	if block.Type != pemCRL {
		return nil, logical.InvalidRequest("failed to parse CRL: the PEM block is not an X509 CRL")
	}
	rl, err := x509.ParseRevocationList(block.Bytes)
	if err != nil {
		return nil, logical.InvalidRequest("failed to parse CRL: %v", err)
	}
	info := &crlInfo{Serials: make([]string, 0, len(rl.RevokedCertificateEntries))}
	for _, e := range rl.RevokedCertificateEntries {
		if e.SerialNumber != nil {
			info.Serials = append(info.Serials, e.SerialNumber.String())
		}
	}
	slices.Sort(info.Serials)
	info.Serials = slices.Compact(info.Serials)
	return info, nil
}
