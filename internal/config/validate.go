package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
)

// validate checks every rule, recording problems in rep; rep's source map
// (empty for configs built in Go) places them by line.
func (c *Config) validate(rep *report) {
	c.validateStorage(rep)
	c.validateListeners(rep)
	c.validateSeal(rep)
	c.validateAudit(rep)
	c.validateTop(rep)
	c.validateNetwork(rep)
	c.validateRaftSnapshot(rep)
}

func (c *Config) validateTop(rep *report) {
	for _, f := range []struct{ name, value string }{
		{"api_addr", c.APIAddr}, {"cluster_addr", c.ClusterAddr},
	} {
		if f.value == "" {
			continue
		}
		if err := checkURL(f.value); err != nil {
			rep.fail(f.name, "", f.name, "%s", err.Error())
		}
	}
	if !slices.Contains([]string{"trace", "debug", "info", "warn", "error"}, c.LogLevel) {
		rep.fail("log_level", "", "log_level", `must be "trace", "debug", "info", "warn" or "error"`)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		rep.fail("log_format", "", "log_format", `must be "text" or "json"`)
	}
	if c.GCHeapFloor < 0 {
		rep.fail("gc_heap_floor", "", "gc_heap_floor", "must be a number of bytes, 0 or more")
	}
	if c.DefaultLeaseTTL <= 0 {
		rep.fail("default_lease_ttl", "", "default_lease_ttl", "must be positive")
	}
	if c.MaxLeaseTTL <= 0 {
		rep.fail("max_lease_ttl", "", "max_lease_ttl", "must be positive")
	} else if c.MaxLeaseTTL < c.DefaultLeaseTTL {
		rep.fail("max_lease_ttl", "", "max_lease_ttl", "must be at least default_lease_ttl (%s < %s)",
			c.MaxLeaseTTL, c.DefaultLeaseTTL)
	}
}

func (c *Config) validateStorage(rep *report) {
	s := c.Storage
	if s.Type == "" {
		rep.fail("storage", "", "storage", `required, e.g. storage "bolt" { path = "/var/lib/coffer" }`)
		return
	}
	block := quote("storage", s.Type)
	opts, ok := storageOptions(s.Type)
	if !ok {
		rep.fail("storage", block, "", "unknown storage type, want %s", storageTypes)
		return
	}
	checkOptions(rep, "storage", block, opts, s.Options)
	for i, rj := range s.RetryJoin {
		key := fmt.Sprintf("storage.retry_join[%d]", i)
		if s.Type != "raft" {
			rep.fail(key, block, "retry_join", "only valid for raft storage")
			continue
		}
		rj.validate(rep, key, block+": retry_join")
	}
}

func (rj RetryJoin) validate(rep *report, key, block string) {
	switch {
	case rj.LeaderAPIAddr == "" && rj.AutoJoinDNS == "":
		rep.fail(key, block, "", "one of leader_api_addr or auto_join_dns is required")
	case rj.LeaderAPIAddr != "" && rj.AutoJoinDNS != "":
		rep.fail(key+".auto_join_dns", block, "auto_join_dns", "cannot be set with leader_api_addr")
	case rj.LeaderAPIAddr != "":
		if err := checkURL(rj.LeaderAPIAddr); err != nil {
			rep.fail(key+".leader_api_addr", block, "leader_api_addr", "%s", err.Error())
		}
	}
	if rj.AutoJoinScheme != "" || rj.AutoJoinPort != 0 {
		rj.validateAutoJoin(rep, key, block)
	}
	if (rj.LeaderClientCertFile == "") != (rj.LeaderClientKeyFile == "") {
		rep.fail(key, block, "", "leader_client_cert_file and leader_client_key_file must be set together")
	}
}

// validateAutoJoin checks auto_join_scheme and auto_join_port, which only
// mean something with auto_join_dns.
func (rj RetryJoin) validateAutoJoin(rep *report, key, block string) {
	if rj.AutoJoinDNS == "" {
		field := "auto_join_scheme"
		if rj.AutoJoinScheme == "" {
			field = "auto_join_port"
		}
		rep.fail(key+"."+field, block, field, "only valid with auto_join_dns")
		return
	}
	if s := rj.AutoJoinScheme; s != "" && s != "http" && s != "https" {
		rep.fail(key+".auto_join_scheme", block, "auto_join_scheme", `must be "http" or "https"`)
	}
	if p := rj.AutoJoinPort; p < 0 || p > 65535 {
		rep.fail(key+".auto_join_port", block, "auto_join_port", "must be a port between 1 and 65535")
	}
}

func (c *Config) validateListeners(rep *report) {
	if len(c.Listeners) == 0 {
		rep.fail("listener", "", "listener", `at least one listener block is required, e.g. listener "tcp" { ... }`)
		return
	}
	used := map[string]string{} // address -> block key that binds it
	for i, l := range c.Listeners {
		key := fmt.Sprintf("listener[%d]", i)
		block := quote("listener", l.Type)
		l.validate(rep, key, block)
		for _, a := range []struct{ field, addr string }{
			{"address", l.Address}, {"redirect_address", l.RedirectAddress}, {"cluster_address", l.ClusterAddress},
		} {
			if a.addr == "" || portOf(a.addr) == "0" {
				continue
			}
			if prev, dup := used[a.addr]; dup {
				rep.fail(key+"."+a.field, block, a.field, "%s is already bound by the listener at %s",
					a.addr, describe(rep, prev))
				continue
			}
			used[a.addr] = key
		}
	}
}

// describe names a block for "already used by" messages: its line when
// known, its source key otherwise.
func describe(rep *report, key string) string {
	if l := rep.lineOf(key); l > 0 {
		return "line " + strconv.Itoa(l)
	}
	return key
}

func (l Listener) validate(rep *report, key, block string) {
	at := func(field string) string { return key + "." + field }
	if l.Type != "tcp" {
		rep.fail(key, block, "", `unknown listener type, want "tcp"`)
	}
	if err := checkHostPort(l.Address); err != nil {
		rep.fail(at("address"), block, "address", "%s", err.Error())
	}
	if l.ClusterAddress != "" {
		if err := checkHostPort(l.ClusterAddress); err != nil {
			rep.fail(at("cluster_address"), block, "cluster_address", "%s", err.Error())
		}
	}
	if l.TLSMinVersion != "tls12" && l.TLSMinVersion != "tls13" {
		rep.fail(at("tls_min_version"), block, "tls_min_version", `must be "tls12" or "tls13"`)
	}
	l.validateTLS(rep, key, block)
	if l.MaxRequestSize <= 0 {
		rep.fail(at("max_request_size"), block, "max_request_size", "must be a positive number of bytes")
	}
	if l.MaxRequestDuration <= 0 {
		rep.fail(at("max_request_duration"), block, "max_request_duration", "must be positive")
	}
	for _, f := range []struct {
		name string
		list []netip.Prefix
	}{
		{"x_forwarded_for_authorized_addrs", l.XForwardedForAuthorizedAddrs},
		{"allowed_cidrs", l.AllowedCIDRs},
	} {
		for _, p := range f.list {
			if !p.IsValid() || p.Masked() != p {
				rep.fail(at(f.name), block, f.name, "%q is not a valid CIDR", p.String())
			}
		}
	}
	l.validateForwarding(rep, key, block)
}

func (l Listener) validateTLS(rep *report, key, block string) {
	at := func(field string) string { return key + "." + field }
	if l.TLSDisable {
		for _, f := range []struct {
			name string
			set  bool
		}{
			{"tls_require_and_verify_client_cert", l.TLSRequireAndVerifyClientCert},
			{"redirect_address", l.RedirectAddress != ""},
		} {
			if f.set {
				rep.fail(at(f.name), block, f.name, "needs TLS, but tls_disable is set")
			}
		}
		return
	}
	if l.TLSCertFile == "" {
		rep.fail(at("tls_cert_file"), block, "tls_cert_file", "required unless tls_disable is set")
	}
	if l.TLSKeyFile == "" {
		rep.fail(at("tls_key_file"), block, "tls_key_file", "required unless tls_disable is set")
	}
	if l.TLSRequireAndVerifyClientCert && l.TLSClientCAFile == "" {
		rep.fail(at("tls_client_ca_file"), block, "tls_client_ca_file",
			"required when tls_require_and_verify_client_cert is set")
	}
	if l.RedirectAddress == "" {
		return
	}
	if err := checkHostPort(l.RedirectAddress); err != nil {
		rep.fail(at("redirect_address"), block, "redirect_address", "%s", err.Error())
	}
}

func (c *Config) validateSeal(rep *report) {
	if c.Seal == nil {
		return
	}
	block := quote("seal", c.Seal.Type)
	opts, ok := sealOptions(c.Seal.Type)
	if !ok {
		rep.fail("seal", block, "", "unknown seal type, want %s", sealTypes)
		return
	}
	checkOptions(rep, "seal", block, opts, c.Seal.Options)
}

func (c *Config) validateAudit(rep *report) {
	names := map[string]string{} // name -> block key
	for i, a := range c.Audit {
		key := fmt.Sprintf("audit[%d]", i)
		block := quote("audit", a.Type)
		opts, ok := auditOptions(a.Type)
		if !ok {
			rep.fail(key, block, "", "unknown audit type, want %s", auditTypes)
			continue
		}
		checkOptions(rep, key, block, opts, a.Options)
		name := a.Name
		if name == "" {
			name = a.Type
		}
		if err := checkName(name); err != nil {
			rep.fail(key+".name", block, "name", "%s", err.Error())
			continue
		}
		if prev, dup := names[name]; dup {
			rep.fail(key+".name", block, "name", "%q is already used by the audit block at %s; give each a distinct name",
				name, describe(rep, prev))
			continue
		}
		names[name] = key
	}
}

// checkURL accepts an absolute http or https URL with a host.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http or https URL such as \"https://10.0.0.1:8200\"", s)
	}
	return nil
}

// checkHostPort accepts host:port with a numeric port; the host may be
// empty (all interfaces).
func checkHostPort(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil {
		return fmt.Errorf("%q is not a host:port address such as \"127.0.0.1:8200\"", s)
	}
	return nil
}

// portOf returns the port of a host:port address, or "" if it has none.
func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return port
}

// checkName accepts audit names usable as a path segment: letters, digits,
// '-', '_' and '.', not starting with '.'.
func checkName(s string) error {
	bad := s == "" || s[0] == '.'
	for _, r := range s {
		ok := r == '-' || r == '_' || r == '.' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
		bad = bad || !ok
	}
	if bad {
		return errors.New("must be letters, digits, '-', '_' or '.', not starting with '.'")
	}
	return nil
}
