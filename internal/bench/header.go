package bench

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrInvalidHeader is returned by ParseHeader and ParseHeaders for a header
// that is not "Name: value" with a valid field name and value, or that
// names a header the Target or the HTTP transport manages itself.
var ErrInvalidHeader = errors.New("invalid header")

// maxHeaderLen bounds one "Name: value" argument; servers commonly refuse
// whole header blocks beyond 8 KiB.
const maxHeaderLen = 8 << 10

// ParseHeader parses one "Name: value" header, as curl's -H takes it: the
// name is an RFC 9110 token, the value (spaces around it trimmed) holds no
// control characters but tab, and may be empty. The name comes back in
// canonical form (x-coffer-consistency → X-Coffer-Consistency). Errors wrap
// ErrInvalidHeader and quote at most the name.
func ParseHeader(s string) (name, value string, err error) {
	if len(s) > maxHeaderLen {
		return "", "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidHeader, maxHeaderLen)
	}
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", fmt.Errorf("%w: want \"Name: value\"", ErrInvalidHeader)
	}
	if !validFieldName(name) {
		return "", "", fmt.Errorf("%w: name %q: want letters, digits or !#$%%&'*+-.^_`|~ and no spaces", ErrInvalidHeader, name)
	}
	name = http.CanonicalHeaderKey(name)
	if reserved(name) {
		return "", "", fmt.Errorf("%w: %s is set by coffer bench itself", ErrInvalidHeader, name)
	}
	value = strings.Trim(value, " \t")
	if !validFieldValue(value) {
		return "", "", fmt.Errorf("%w: %s: value holds control characters", ErrInvalidHeader, name)
	}
	return name, value, nil
}

// ParseHeaders parses every "Name: value" in specs with ParseHeader. A
// name given more than once is sent with each of its values, in order. No
// specs give a nil Header.
func ParseHeaders(specs []string) (http.Header, error) {
	var h http.Header
	for _, s := range specs {
		name, value, err := ParseHeader(s)
		if err != nil {
			return nil, err
		}
		if h == nil {
			h = http.Header{}
		}
		h[name] = append(h[name], value)
	}
	return h, nil
}

// validFieldName reports whether s is a non-empty RFC 9110 token.
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validFieldValue reports whether s holds no control characters (other
// than horizontal tab) and no DEL; bytes from 0x80 up (obs-text) are
// allowed, as RFC 9110 allows them.
func validFieldValue(s string) bool {
	for i := range len(s) {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// reserved reports whether the canonical name is set per request by Target
// (the token, the body's type) or by net/http from the request itself; an
// extra header must not replace those.
func reserved(name string) bool {
	switch name {
	case "X-Vault-Token", "Content-Type", "Content-Length", "Host", "Connection", "Transfer-Encoding":
		return true
	}
	return false
}
