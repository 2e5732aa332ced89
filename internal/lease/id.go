package lease

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/cofferdev/coffer/internal/storage"
)

// maxIDLen bounds lease ids and prefixes from clients.
const maxIDLen = 1024

// ValidateID checks that id can name a lease: "<mount><path>/<random>"
// without empty segments, "..", a leading or trailing "/", or control
// characters.
func ValidateID(id string) error {
	if err := validateSegments(id); err != nil {
		return err
	}
	if strings.HasSuffix(id, "/") {
		return fmt.Errorf("%w: %q ends in \"/\"", ErrInvalidID, id)
	}
	return nil
}

// ValidatePrefix checks a lease id prefix; it must end in "/".
func ValidatePrefix(prefix string) error {
	if !strings.HasSuffix(prefix, "/") {
		return fmt.Errorf("%w: prefix %q does not end in \"/\"", ErrInvalidID, prefix)
	}
	return validateSegments(strings.TrimSuffix(prefix, "/"))
}

func validateSegments(s string) error {
	switch {
	case s == "", len(s) > maxIDLen:
		return fmt.Errorf("%w: bad length", ErrInvalidID)
	case storage.ValidateKey(leasePrefix+s) != nil, strings.HasPrefix(s, "/"), strings.Contains(s, "//"):
		return fmt.Errorf("%w: %q", ErrInvalidID, s)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }):
		return fmt.Errorf("%w: control character", ErrInvalidID)
	}
	return nil
}
