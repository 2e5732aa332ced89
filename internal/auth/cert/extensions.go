package cert

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/logical"
)

// errBadOID is the cause of an invalid object identifier setting.
var errBadOID = errors.New("invalid object identifier")

// parseOID parses a dotted-decimal object identifier ("1.2.3.4") and
// returns it in canonical form.
func parseOID(s string) (string, error) {
	arcs := strings.Split(s, ".")
	if len(arcs) < 2 {
		return "", fmt.Errorf("%w %q", errBadOID, s)
	}
	oid := make(asn1.ObjectIdentifier, len(arcs))
	for i, a := range arcs {
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 || a == "" || a[0] == '+' {
			return "", fmt.Errorf("%w %q", errBadOID, s)
		}
		oid[i] = n
	}
	return oid.String(), nil
}

// checkRequiredExtensions validates required_extensions: each item is
// "<oid>:<glob of the value>".
func checkRequiredExtensions(items []string) error {
	for _, item := range items {
		oid, _, ok := strings.Cut(item, ":")
		if !ok {
			return logical.InvalidRequest("required_extensions: %q is not of the form <oid>:<value>", item)
		}
		if _, err := parseOID(oid); err != nil {
			return logical.InvalidRequest("required_extensions: %v", err)
		}
	}
	return nil
}

// extensionValues maps each extension of c, by OID, to its value decoded as
// an ASN.1 string, or "" when it is not a string, as Vault reads them.
func extensionValues(c *x509.Certificate) map[string]string {
	out := make(map[string]string, len(c.Extensions))
	for _, e := range c.Extensions {
		var v string
		if _, err := asn1.Unmarshal(e.Value, &v); err != nil {
			v = ""
		}
		out[e.Id.String()] = v
	}
	return out
}

// matchesExtensions reports whether c has every required extension with a
// value matching its glob.
func matchesExtensions(c *x509.Certificate, required []string) bool {
	if len(required) == 0 {
		return true
	}
	values := extensionValues(c)
	for _, item := range required {
		oid, pattern, _ := strings.Cut(item, ":")
		canon, err := parseOID(oid)
		if err != nil {
			return false
		}
		v, ok := values[canon]
		if !ok || !authutil.Glob(pattern, v) {
			return false
		}
	}
	return true
}

// metadataExtensions returns the values of the allowed metadata extensions
// c carries, keyed by OID with dashes for dots ("1-2-3"), as Vault does.
func metadataExtensions(c *x509.Certificate, allowed []string) map[string]string {
	if len(allowed) == 0 {
		return nil
	}
	values := extensionValues(c)
	out := map[string]string{}
	for _, oid := range allowed {
		canon, err := parseOID(oid)
		if err != nil {
			continue
		}
		if v, ok := values[canon]; ok {
			out[strings.ReplaceAll(canon, ".", "-")] = v
		}
	}
	return out
}
