// Package config is the server's typed configuration: it decodes the
// Vault-shaped HCL (or JSON) file given to `coffer server -config`, fills in
// defaults and validates it, reporting every problem with file, line and key.
package config

import (
	"fmt"
	"net/netip"
	"os"
	"time"
)

// Defaults applied by Default, DefaultListener and Parse.
const (
	DefaultAddress            = "127.0.0.1:8200"
	DefaultTLSMinVersion      = "tls12"
	DefaultMaxRequestSize     = 32 << 20 // bytes
	DefaultMaxRequestDuration = 90 * time.Second
	DefaultLeaseTTL           = 768 * time.Hour
	DefaultLogLevel           = "info"
	DefaultLogFormat          = "text"
	DefaultGCHeapFloor        = 32 << 20 // bytes
)

// Config is the whole server configuration.
type Config struct {
	Storage   Storage
	Listeners []Listener
	// Seal is the auto-unseal mechanism; nil (or Type "shamir") means Shamir
	// key shares entered by operators.
	Seal  *Seal
	Audit []Audit

	APIAddr     string // URL clients are redirected to, e.g. https://10.0.0.1:8200
	ClusterAddr string // URL other nodes reach this one at

	UI        bool
	LogLevel  string // trace | debug | info | warn | error
	LogFormat string // text | json

	DefaultLeaseTTL time.Duration
	MaxLeaseTTL     time.Duration

	// DisableMlock is accepted for compatibility with Vault files and
	// ignored: Coffer never calls mlock.
	DisableMlock bool

	// GCHeapFloor is how far above the live heap the garbage collector's
	// goal stays at least (bytes; 0 leaves Go's own pacing). The GOGC
	// environment variable, when set, wins.
	GCHeapFloor int64

	// UserLockouts are the `user_lockout "<auth type>"` blocks ("all" for
	// every auth type without its own block).
	UserLockouts []UserLockout
	// Network is the `network` block: blocklist file and automatic bans.
	Network Network
	// RaftSnapshot is the `raft_snapshot` block (scheduled snapshots of
	// raft storage); nil when absent.
	RaftSnapshot *RaftSnapshot
}

// Storage is the physical storage backend. Options holds the backend's
// attributes as text (path, node_id, ...); which keys a type accepts is in
// storageOptions. RetryJoin is only valid for raft.
type Storage struct {
	Type      string // inmem | bolt | raft | etcd | postgresql
	Options   map[string]string
	RetryJoin []RetryJoin
}

// RetryJoin is one raft `retry_join` block: where a new node finds the
// cluster it joins. Exactly one of LeaderAPIAddr and AutoJoinDNS is set.
type RetryJoin struct {
	LeaderAPIAddr        string
	LeaderCACertFile     string
	LeaderClientCertFile string
	LeaderClientKeyFile  string
	AutoJoinDNS          string
	// AutoJoinScheme ("http" or "https") and AutoJoinPort are how the API
	// of each address found by AutoJoinDNS is reached; empty and 0 mean
	// "https" and 8200.
	AutoJoinScheme string
	AutoJoinPort   int64
}

// Listener is one `listener "tcp"` block.
type Listener struct {
	Type          string // tcp
	Address       string // host:port
	TLSDisable    bool
	TLSCertFile   string
	TLSKeyFile    string
	TLSMinVersion string // tls12 | tls13

	TLSClientCAFile               string
	TLSRequireAndVerifyClientCert bool

	// RedirectAddress, if set, is a plain-HTTP host:port that only
	// redirects to this listener over https.
	RedirectAddress string
	// ClusterAddress, if set, is the host:port a raft node binds its
	// cluster port to, when it differs from what cluster_addr advertises
	// (NAT, a proxy in front of the node). Only the first listener's
	// counts.
	ClusterAddress string

	MaxRequestSize     int64 // bytes
	MaxRequestDuration time.Duration

	// XForwardedForAuthorizedAddrs are the proxies trusted to set
	// X-Forwarded-For; empty trusts none.
	XForwardedForAuthorizedAddrs []netip.Prefix
	// AllowedCIDRs are the client networks allowed to connect; empty allows
	// every client.
	AllowedCIDRs []netip.Prefix
	// XForwardedForHopSkips is how many addresses to skip from the right of
	// the X-Forwarded-For chain.
	XForwardedForHopSkips int64
	// XForwardedForRejectNotAuthorized rejects (400) a request carrying
	// X-Forwarded-For from a peer outside XForwardedForAuthorizedAddrs
	// instead of ignoring the header (Vault's default: true).
	XForwardedForRejectNotAuthorized bool
	// XForwardedForRejectNotPresent rejects (400) a request without
	// X-Forwarded-For when trusted proxies are configured (Vault's
	// default: true).
	XForwardedForRejectNotPresent bool
	// PathRules limit API path prefixes to client networks.
	PathRules []PathRule
}

// Seal is the `seal` block. Options holds its attributes as text; pkcs11's
// pin is secret, so Seal prints redacted.
type Seal struct {
	Type    string // shamir | static | pkcs11
	Options map[string]string
}

// Audit is one `audit` block: a sink every request and response is written
// to. Name tells several sinks of one type apart; Parse sets it to Type when
// the file leaves it out.
type Audit struct {
	Type    string // file | socket | stdout
	Name    string
	Options map[string]string
}

// Default returns the defaults every parsed file starts from. It has no
// storage and no listeners, so it does not validate on its own.
func Default() *Config {
	return &Config{
		LogLevel:        DefaultLogLevel,
		LogFormat:       DefaultLogFormat,
		DefaultLeaseTTL: DefaultLeaseTTL,
		MaxLeaseTTL:     DefaultLeaseTTL,
		Network:         DefaultNetwork(),
		GCHeapFloor:     DefaultGCHeapFloor,
	}
}

// DefaultListener returns a tcp listener with every default applied. TLS is
// on, so the certificate and key files still have to be set.
func DefaultListener() Listener {
	return Listener{
		Type:               "tcp",
		Address:            DefaultAddress,
		TLSMinVersion:      DefaultTLSMinVersion,
		MaxRequestSize:     DefaultMaxRequestSize,
		MaxRequestDuration: DefaultMaxRequestDuration,

		XForwardedForRejectNotAuthorized: true,
		XForwardedForRejectNotPresent:    true,
	}
}

// DevConfig returns the configuration of `coffer server -dev`: in-memory
// storage and one plain-HTTP listener on listenAddr (DefaultAddress when
// empty). It is for local experiments only.
func DevConfig(listenAddr string) *Config {
	if listenAddr == "" {
		listenAddr = DefaultAddress
	}
	c := Default()
	c.Storage = Storage{Type: "inmem", Options: map[string]string{}}
	l := DefaultListener()
	l.Address = listenAddr
	l.TLSDisable = true
	c.Listeners = []Listener{l}
	c.APIAddr = "http://" + listenAddr
	return c
}

// Load reads the file at path and parses it (see Parse). Errors name path as
// given.
func Load(path string) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: read: %w", err)
	}
	return Parse(path, src)
}

// Parse decodes src, an HCL or JSON document named filename in messages,
// applies defaults and validates the result. Every problem found is
// reported, one per line, each wrapping ErrInvalid.
func Parse(filename string, src []byte) (*Config, error) {
	c, rep, err := decode(filename, src)
	if err != nil {
		return nil, err
	}
	c.validate(rep)
	if err := rep.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks the cross-field rules of a configuration built in Go or
// parsed from a file: a known storage type with its required options, at
// least one listener, TLS files unless tls_disable, known seal and audit
// types, valid addresses and enums, max_lease_ttl >= default_lease_ttl.
// It does not touch the file system: missing certificate files are found
// when the server opens them.
func (c *Config) Validate() error {
	rep := newReport("")
	c.validate(rep)
	return rep.err()
}
