package netctl

import (
	"fmt"
	"net"
	"net/netip"
	"path"
	"strings"
)

// ForwardedFor is a listener's X-Forwarded-For handling, with Vault's
// x_forwarded_for_* settings.
type ForwardedFor struct {
	// AuthorizedAddrs are the proxies whose X-Forwarded-For is used; empty
	// turns the header off entirely.
	AuthorizedAddrs []netip.Prefix
	// HopSkips is how many addresses to skip from the right of the chain.
	HopSkips int
	// RejectNotAuthorized rejects a request carrying X-Forwarded-For from a
	// peer outside AuthorizedAddrs instead of ignoring the header.
	RejectNotAuthorized bool
	// RejectNotPresent rejects a request without X-Forwarded-For instead of
	// using the peer address.
	RejectNotPresent bool
}

// PathRule limits an API path prefix to client networks.
type PathRule struct {
	// Prefix is matched against the API path after /v1/; a trailing "*"
	// means the same as none.
	Prefix string
	// AllowedCIDRs are the networks allowed on the prefix.
	AllowedCIDRs []netip.Prefix
}

// ListenerConfig is one listener's address rules.
type ListenerConfig struct {
	ForwardedFor ForwardedFor
	// AllowedCIDRs are the networks allowed to use the listener at all;
	// empty allows every address.
	AllowedCIDRs []netip.Prefix
	PathRules    []PathRule
}

// Listener applies one listener's rules. It is immutable and safe for
// concurrent use.
type Listener struct {
	xff     ForwardedFor
	proxies *CIDRSet
	allowed *CIDRSet // nil: every address
	rules   []pathRule
}

type pathRule struct {
	prefix  string
	allowed *CIDRSet
}

// NewListener compiles a listener's rules.
func NewListener(cfg ListenerConfig) (*Listener, error) {
	if cfg.ForwardedFor.HopSkips < 0 {
		return nil, fmt.Errorf("netctl: x_forwarded_for_hop_skips %d is negative", cfg.ForwardedFor.HopSkips)
	}
	l := &Listener{xff: cfg.ForwardedFor, proxies: NewCIDRSet(cfg.ForwardedFor.AuthorizedAddrs)}
	if len(cfg.AllowedCIDRs) > 0 {
		l.allowed = NewCIDRSet(cfg.AllowedCIDRs)
	}
	for _, r := range cfg.PathRules {
		p := NormalizePrefix(r.Prefix)
		if p == "" {
			return nil, fmt.Errorf("netctl: path rule %q has an empty prefix", r.Prefix)
		}
		l.rules = append(l.rules, pathRule{prefix: p, allowed: NewCIDRSet(r.AllowedCIDRs)})
	}
	return l, nil
}

// TrustsProxies reports whether X-Forwarded-For can change the client
// address on this listener.
func (l *Listener) TrustsProxies() bool { return len(l.xff.AuthorizedAddrs) > 0 }

// NormalizePrefix strips a trailing "*" and a leading "/" from a path-rule
// prefix.
func NormalizePrefix(p string) string {
	return strings.TrimPrefix(strings.TrimSuffix(strings.TrimSpace(p), "*"), "/")
}

// ClientIP resolves the client address of a request from its peer address
// ("host:port") and X-Forwarded-For header values, as Vault does: with no
// authorized proxies the header is ignored; a request without the header is
// rejected if RejectNotPresent, else the peer is the client; a header from
// a peer outside the authorized proxies is rejected if RejectNotAuthorized,
// else ignored; from an authorized proxy the client is the address
// HopSkips entries from the right of the chain. Errors wrap ErrForwardedFor
// and are safe to show the client.
func (l *Listener) ClientIP(peer string, xff []string) (netip.Addr, error) {
	peerIP, err := parsePeer(peer)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(l.xff.AuthorizedAddrs) == 0 {
		return peerIP, nil
	}
	var chain []string
	for _, h := range xff {
		for _, part := range strings.Split(h, ",") {
			if part = strings.TrimSpace(part); part != "" {
				chain = append(chain, part)
			}
		}
	}
	if len(chain) == 0 {
		if l.xff.RejectNotPresent {
			return netip.Addr{}, fmt.Errorf("%w: missing x-forwarded-for header and configured to reject when not present", ErrForwardedFor)
		}
		return peerIP, nil
	}
	if !l.proxies.Contains(peerIP) {
		if l.xff.RejectNotAuthorized {
			return netip.Addr{}, fmt.Errorf("%w: client address not authorized for x-forwarded-for and configured to reject connection", ErrForwardedFor)
		}
		return peerIP, nil
	}
	i := len(chain) - 1 - l.xff.HopSkips
	if i < 0 {
		return netip.Addr{}, fmt.Errorf("%w: hops to skip (%d) would skip before earliest chain link (chain length %d)",
			ErrForwardedFor, l.xff.HopSkips, len(chain))
	}
	ip, err := parseForwarded(chain[i])
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: malformed x-forwarded-for address", ErrForwardedFor)
	}
	return ip, nil
}

// parsePeer parses a net/http RemoteAddr.
func parsePeer(peer string) (netip.Addr, error) {
	if ap, err := netip.ParseAddrPort(peer); err == nil {
		return ap.Addr().Unmap().WithZone(""), nil
	}
	ip, err := netip.ParseAddr(peer)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("netctl: unparsable peer address: %w", err)
	}
	return ip.Unmap().WithZone(""), nil
}

// parseForwarded parses one chain entry: an address, optionally with a
// port or in brackets.
func parseForwarded(s string) (netip.Addr, error) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap().WithZone(""), nil
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, err
	}
	return ip.Unmap().WithZone(""), nil
}

// Allow checks the listener's allowed_cidrs and every path rule whose
// prefix matches apiPath (the path after /v1/). Errors wrap ErrNotAllowed.
func (l *Listener) Allow(ip netip.Addr, apiPath string) error {
	if l.allowed != nil && !l.allowed.Contains(ip) {
		return fmt.Errorf("%w: not in the listener's allowed_cidrs", ErrNotAllowed)
	}
	if len(l.rules) == 0 {
		return nil
	}
	p := cleanAPIPath(apiPath)
	for _, r := range l.rules {
		if matchPrefix(r.prefix, p) && !r.allowed.Contains(ip) {
			return fmt.Errorf("%w: path rule %q", ErrNotAllowed, r.prefix)
		}
	}
	return nil
}

// cleanAPIPath removes dot segments and doubled slashes, so "a/../sys/x"
// meets the rules for "sys/"; a trailing slash is kept.
func cleanAPIPath(p string) string {
	c := strings.TrimPrefix(path.Clean("/"+p), "/")
	if strings.HasSuffix(p, "/") && c != "" {
		c += "/"
	}
	return c
}

// matchPrefix reports whether p is under prefix; "sys/" also matches "sys".
func matchPrefix(prefix, p string) bool {
	return strings.HasPrefix(p, prefix) || (strings.HasSuffix(prefix, "/") && p == prefix[:len(prefix)-1])
}
