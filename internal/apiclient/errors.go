package apiclient

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

var (
	// ErrInvalidAddress is returned by New when Config.Address is not an
	// http or https URL.
	ErrInvalidAddress = errors.New("invalid server address")
	// ErrInvalidTLS is returned by New when the CA certificate or the client
	// certificate and key cannot be loaded.
	ErrInvalidTLS = errors.New("invalid tls configuration")
)

// ResponseError is a non-2xx answer from the server. Its message is one line:
// "PUT /v1/secret/data/x: 403 permission denied". It never contains the
// client's token.
type ResponseError struct {
	// Method and Path identify the request; Path has no /v1/ prefix and no
	// query string.
	Method string
	Path   string
	// StatusCode is the HTTP status code.
	StatusCode int
	// Errors are the server's messages from the {"errors": [...]} body.
	Errors []string
}

// Error implements error.
func (e *ResponseError) Error() string {
	msg := strings.Join(e.Errors, "; ")
	if msg == "" {
		msg = strings.ToLower(http.StatusText(e.StatusCode))
	}
	return fmt.Sprintf("%s /v1/%s: %d %s", e.Method, e.Path, e.StatusCode, msg)
}

// IsStatus reports whether err is a ResponseError with the given status code.
func IsStatus(err error, code int) bool {
	var re *ResponseError
	return errors.As(err, &re) && re.StatusCode == code
}
