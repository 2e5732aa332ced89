package apiclient

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// maxResponseBytes bounds how much of a response body the client decodes, so
// a misbehaving server cannot exhaust the client's memory.
const maxResponseBytes = 32 << 20

// Secret is Vault's JSON response envelope. Its JSON encoding is the one the
// Vault CLI prints with -format=json.
type Secret struct {
	RequestID     string          `json:"request_id"`
	LeaseID       string          `json:"lease_id"`
	LeaseDuration int             `json:"lease_duration"`
	Renewable     bool            `json:"renewable"`
	Data          map[string]any  `json:"data"`
	Warnings      []string        `json:"warnings"`
	Auth          *SecretAuth     `json:"auth,omitempty"`
	WrapInfo      *SecretWrapInfo `json:"wrap_info,omitempty"`
}

// SecretAuth is the "auth" object of a login or token-creation response.
type SecretAuth struct {
	ClientToken      string            `json:"client_token"`
	Accessor         string            `json:"accessor"`
	Policies         []string          `json:"policies"`
	TokenPolicies    []string          `json:"token_policies"`
	IdentityPolicies []string          `json:"identity_policies"`
	Metadata         map[string]string `json:"metadata"`
	Orphan           bool              `json:"orphan"`
	EntityID         string            `json:"entity_id"`
	LeaseDuration    int               `json:"lease_duration"`
	Renewable        bool              `json:"renewable"`
	TokenType        string            `json:"token_type,omitempty"`
	NumUses          int               `json:"num_uses,omitempty"`
}

// SecretWrapInfo is the "wrap_info" object of a wrapped response.
type SecretWrapInfo struct {
	Token           string    `json:"token"`
	Accessor        string    `json:"accessor"`
	TTL             int       `json:"ttl"`
	CreationTime    time.Time `json:"creation_time"`
	CreationPath    string    `json:"creation_path"`
	WrappedAccessor string    `json:"wrapped_accessor,omitempty"`
}

// ParseSecret decodes one response envelope from r. Numbers inside Data stay
// json.Number so large integers survive unchanged. An empty body yields a nil
// Secret and no error.
func ParseSecret(r io.Reader) (*Secret, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxResponseBytes))
	dec.UseNumber()
	var s Secret
	if err := dec.Decode(&s); err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, fmt.Errorf("decode response: %w", err)
	}
	return &s, nil
}

// String keeps secret values out of logs and error messages.
func (s *Secret) String() string { return redacted }

// GoString keeps secret values out of %#v output.
func (s *Secret) GoString() string { return redacted }

// LogValue keeps secret values out of structured logs.
func (s *Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// String keeps the client token out of logs and error messages.
func (a *SecretAuth) String() string { return redacted }

// GoString keeps the client token out of %#v output.
func (a *SecretAuth) GoString() string { return redacted }

// LogValue keeps the client token out of structured logs.
func (a *SecretAuth) LogValue() slog.Value { return slog.StringValue(redacted) }

// String keeps the wrapping token out of logs and error messages.
func (w *SecretWrapInfo) String() string { return redacted }

// GoString keeps the wrapping token out of %#v output.
func (w *SecretWrapInfo) GoString() string { return redacted }

// LogValue keeps the wrapping token out of structured logs.
func (w *SecretWrapInfo) LogValue() slog.Value { return slog.StringValue(redacted) }
