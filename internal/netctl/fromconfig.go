package netctl

import (
	"log/slog"

	"github.com/cofferdev/coffer/internal/config"
)

// OptionsFromConfig converts the server configuration's user_lockout and
// network blocks into Options.
func OptionsFromConfig(c *config.Config, logger *slog.Logger) Options {
	opts := Options{
		Logger: logger,
		Ban: BanConfig{Threshold: int(c.Network.BanThreshold), Window: c.Network.BanWindow,
			Duration: c.Network.BanDuration},
		BlocklistFile:           c.Network.BlocklistFile,
		BlocklistReloadInterval: c.Network.BlocklistReloadInterval,
		Lockout:                 map[string]LockoutConfig{},
	}
	for _, u := range c.UserLockouts {
		opts.Lockout[u.AuthType] = LockoutConfig{Threshold: int(u.Threshold), Duration: u.Duration,
			CounterReset: u.CounterReset, Disable: u.Disable}
	}
	return opts
}

// ListenerFromConfig converts one listener block's address rules.
func ListenerFromConfig(l config.Listener) ListenerConfig {
	lc := ListenerConfig{
		ForwardedFor: ForwardedFor{AuthorizedAddrs: l.XForwardedForAuthorizedAddrs,
			HopSkips: int(l.XForwardedForHopSkips), RejectNotAuthorized: l.XForwardedForRejectNotAuthorized,
			RejectNotPresent: l.XForwardedForRejectNotPresent},
		AllowedCIDRs: l.AllowedCIDRs,
	}
	for _, r := range l.PathRules {
		lc.PathRules = append(lc.PathRules, PathRule{Prefix: r.Prefix, AllowedCIDRs: r.AllowedCIDRs})
	}
	return lc
}
