package apiclient

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	// DefaultAddress is where the client looks for a server when neither
	// COFFER_ADDR nor VAULT_ADDR is set (Vault's default).
	DefaultAddress = "https://127.0.0.1:8200"
	// DefaultTimeout bounds one request, as Vault's client does.
	DefaultTimeout = 60 * time.Second
	// TokenFileName is the file in the user's home directory where
	// `coffer login` stores the token.
	TokenFileName = ".coffer-token"

	redacted = "[REDACTED]"
)

// Config says how to reach and authenticate to a server.
type Config struct {
	// Address is the server's base URL, e.g. https://127.0.0.1:8200.
	Address string
	// Token is sent as X-Vault-Token. Empty means no token.
	Token string
	// CACert is a PEM file of CA certificates trusted for the server.
	CACert string
	// ClientCert and ClientKey are PEM files for TLS client authentication.
	ClientCert, ClientKey string
	// TLSSkipVerify disables server certificate verification.
	TLSSkipVerify bool
	// Timeout bounds one request; zero means DefaultTimeout.
	Timeout time.Duration
	// Namespace is accepted for compatibility with Vault's environment and
	// ignored: Coffer has no namespaces.
	Namespace string
}

// ConfigFromEnv builds a Config from the environment. For each setting the
// COFFER_ variable wins over the VAULT_ one: ADDR, TOKEN, CACERT,
// CLIENT_CERT, CLIENT_KEY, SKIP_VERIFY, CLIENT_TIMEOUT, NAMESPACE. When
// neither token variable is set, the token comes from ~/.coffer-token (written
// by `coffer login`) if that file exists.
func ConfigFromEnv(getenv func(string) string) Config {
	get := func(name string) string {
		if v := getenv("COFFER_" + name); v != "" {
			return v
		}
		return getenv("VAULT_" + name)
	}
	cfg := Config{
		Address:    get("ADDR"),
		Token:      get("TOKEN"),
		CACert:     get("CACERT"),
		ClientCert: get("CLIENT_CERT"),
		ClientKey:  get("CLIENT_KEY"),
		Namespace:  get("NAMESPACE"),
		Timeout:    parseTimeout(get("CLIENT_TIMEOUT")),
	}
	if cfg.Address == "" {
		cfg.Address = DefaultAddress
	}
	// An unparsable value keeps verification on: failing safe beats failing open.
	cfg.TLSSkipVerify, _ = strconv.ParseBool(get("SKIP_VERIFY"))
	if cfg.Token == "" {
		if path, err := TokenFilePath(getenv); err == nil {
			cfg.Token, _ = ReadTokenFile(path)
		}
	}
	return cfg
}

// parseTimeout accepts a Go duration ("30s") or a number of seconds ("30");
// anything else yields zero, which means DefaultTimeout.
func parseTimeout(s string) time.Duration {
	if s == "" {
		return 0
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 0
}

// TokenFilePath returns the path of the stored token: TokenFileName in the
// home directory named by HOME (or USERPROFILE on Windows).
func TokenFilePath(getenv func(string) string) (string, error) {
	home := getenv("HOME")
	if home == "" {
		home = getenv("USERPROFILE")
	}
	if home == "" {
		return "", errors.New("token file: no home directory in the environment")
	}
	return filepath.Join(home, TokenFileName), nil
}

// ReadTokenFile returns the token stored at path, without surrounding
// whitespace. A missing file yields an error wrapping fs.ErrNotExist.
func ReadTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// WriteTokenFile stores token at path with mode 0600, replacing any previous
// file atomically so a reader never sees a partial token.
func WriteTokenFile(path, token string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".coffer-token-*")
	if err != nil {
		return fmt.Errorf("write token file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write token file: %w", err)
	}
	if _, err := tmp.WriteString(token); err != nil {
		tmp.Close()
		return fmt.Errorf("write token file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write token file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write token file: %w", err)
	}
	return nil
}

// String describes the config without its token.
func (c Config) String() string {
	tok := ""
	if c.Token != "" {
		tok = redacted
	}
	return fmt.Sprintf("{Address:%s Token:%s CACert:%s ClientCert:%s ClientKey:%s TLSSkipVerify:%t Timeout:%s}",
		c.Address, tok, c.CACert, c.ClientCert, c.ClientKey, c.TLSSkipVerify, c.Timeout)
}

// GoString describes the config without its token for %#v.
func (c Config) GoString() string { return "apiclient.Config" + c.String() }

// LogValue describes the config without its token for log/slog.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("address", c.Address),
		slog.Bool("token_set", c.Token != ""),
		slog.Bool("tls_skip_verify", c.TLSSkipVerify),
	)
}
