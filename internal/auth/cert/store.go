package cert

import (
	"context"
	"fmt"
	"strings"

	"github.com/cofferdev/coffer/internal/auth/authutil"
	"github.com/cofferdev/coffer/internal/auth/tokenutil"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// Storage key prefixes and keys (see the package comment).
const (
	certPrefix = "cert/"
	crlPrefix  = "crls/"
	configKey  = "config"
)

// certEntry is one trusted certificate entry (Vault's "certificate role").
type certEntry struct {
	Name string `json:"name"`
	// Certificate is the PEM as written: one or more CA certificates to
	// chain to, or leaf certificates to pin.
	Certificate               string   `json:"certificate"`
	DisplayName               string   `json:"display_name"`
	AllowedNames              []string `json:"allowed_names"`
	AllowedCommonNames        []string `json:"allowed_common_names"`
	AllowedDNSSANs            []string `json:"allowed_dns_sans"`
	AllowedEmailSANs          []string `json:"allowed_email_sans"`
	AllowedURISANs            []string `json:"allowed_uri_sans"`
	AllowedOUs                []string `json:"allowed_organizational_units"`
	RequiredExtensions        []string `json:"required_extensions"`
	AllowedMetadataExtensions []string `json:"allowed_metadata_extensions"`
	tokenutil.Params
}

// config is the method's settings (the config path).
type config struct {
	// DisableBinding lets a token renew without its login's certificate
	// on the renewing connection (RenewAuth).
	DisableBinding              bool `json:"disable_binding"`
	EnableIdentityAliasMetadata bool `json:"enable_identity_alias_metadata"`
}

// checkName refuses names the storage layer would refuse, with a 400.
func checkName(name string) error {
	if name == "" || strings.Contains(name, "..") {
		return logical.InvalidRequest("invalid name %q", name)
	}
	return nil
}

// getJSON decodes the entry at key into v; ok is false when the key is
// absent.
func getJSON(ctx context.Context, s storage.Backend, key string, v any) (bool, error) {
	return authutil.GetJSON(ctx, s, "cert", key, v, ErrCorruptEntry)
}

// putJSON encodes v and stores it at key.
func putJSON(ctx context.Context, s storage.Backend, key string, v any) error {
	return authutil.PutJSON(ctx, s, "cert", key, v)
}

// loadEntry returns the named entry, or nil if there is none.
func loadEntry(ctx context.Context, s storage.Backend, name string) (*certEntry, error) {
	var e certEntry
	ok, err := getJSON(ctx, s, certPrefix+name, &e)
	if !ok || err != nil {
		return nil, err
	}
	return &e, nil
}

// loadConfig returns the stored config, or the defaults.
func loadConfig(ctx context.Context, s storage.Backend) (config, error) {
	var c config
	_, err := getJSON(ctx, s, configKey, &c)
	return c, err
}

// listNames lists the entry names under prefix, sorted.
func listNames(ctx context.Context, s storage.Backend, prefix string) ([]string, error) {
	keys, err := s.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("cert: list %s: %w", prefix, err)
	}
	out := keys[:0]
	for _, k := range keys {
		if !strings.HasSuffix(k, "/") {
			out = append(out, k)
		}
	}
	return out, nil
}

// loadCRLs returns the revoked serials of every stored CRL as one set.
func loadCRLs(ctx context.Context, s storage.Backend) (map[string]bool, error) {
	names, err := listNames(ctx, s, crlPrefix)
	if err != nil {
		return nil, err
	}
	revoked := map[string]bool{}
	for _, n := range names {
		var info crlInfo
		if _, err := getJSON(ctx, s, crlPrefix+n, &info); err != nil {
			return nil, err
		}
		for _, serial := range info.Serials {
			revoked[serial] = true
		}
	}
	return revoked, nil
}
