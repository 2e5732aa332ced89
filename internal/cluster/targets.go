package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/cofferdev/coffer/internal/config"
)

// Defaults of auto_join_dns targets.
const (
	DefaultAutoJoinScheme = "https"
	DefaultAutoJoinPort   = 8200
)

// Targets turns retry_join blocks into the leaders to try, in order. A
// leader_api_addr block is one Leader, with its CA and client certificate
// files read. An auto_join_dns block is one Leader per address lookup finds
// for the name (scheme://ip:port, by default https and 8200), sharing the
// block's certificate files. Failures (a file that cannot be read, a name
// that does not resolve) do not stop the others: the leaders that could be
// built are returned together with the joined errors.
func Targets(ctx context.Context, joins []config.RetryJoin,
	lookup func(ctx context.Context, host string) ([]net.IPAddr, error)) ([]Leader, error) {
	var leaders []Leader
	var errs []error
	for i, rj := range joins {
		base, err := readLeaderFiles(rj)
		if err != nil {
			errs = append(errs, fmt.Errorf("retry_join[%d]: %w", i, err))
			continue
		}
		if rj.AutoJoinDNS == "" {
			base.APIAddr = rj.LeaderAPIAddr
			leaders = append(leaders, base)
			continue
		}
		addrs, err := autoJoinAddrs(ctx, rj, lookup)
		if err != nil {
			errs = append(errs, fmt.Errorf("retry_join[%d]: %w", i, err))
			continue
		}
		for _, a := range addrs {
			l := base
			l.APIAddr = a
			leaders = append(leaders, l)
		}
	}
	return leaders, errors.Join(errs...)
}

// readLeaderFiles reads a retry_join block's certificate files into a
// Leader without an address.
func readLeaderFiles(rj config.RetryJoin) (Leader, error) {
	var l Leader
	for _, f := range []struct {
		path string
		dst  *[]byte
	}{{rj.LeaderCACertFile, &l.CACertPEM}, {rj.LeaderClientCertFile, &l.ClientCertPEM}, {rj.LeaderClientKeyFile, &l.ClientKeyPEM}} {
		if f.path == "" {
			continue
		}
		data, err := readSmall(f.path)
		if err != nil {
			return Leader{}, err
		}
		*f.dst = data
	}
	return l, nil
}

// autoJoinAddrs resolves an auto_join_dns block into API addresses.
func autoJoinAddrs(ctx context.Context, rj config.RetryJoin,
	lookup func(ctx context.Context, host string) ([]net.IPAddr, error)) ([]string, error) {
	scheme, port := rj.AutoJoinScheme, rj.AutoJoinPort
	if scheme == "" {
		scheme = DefaultAutoJoinScheme
	}
	if port == 0 {
		port = DefaultAutoJoinPort
	}
	ips, err := lookup(ctx, rj.AutoJoinDNS)
	if err != nil {
		return nil, fmt.Errorf("auto_join_dns %q: %w", rj.AutoJoinDNS, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("auto_join_dns %q: no addresses", rj.AutoJoinDNS)
	}
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		host := ip.IP.String()
		if ip.Zone != "" {
			host += "%" + ip.Zone
		}
		u := url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.FormatInt(port, 10))}
		out = append(out, u.String())
	}
	return out, nil
}
