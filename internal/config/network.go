package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/hcl/hcl/ast"
)

// Defaults of the network controls (the `network` and `user_lockout`
// blocks), as Vault's where Vault has the setting.
const (
	DefaultBlocklistReloadInterval = 5 * time.Second
	DefaultBanThreshold            = 20
	DefaultBanWindow               = 5 * time.Minute
	DefaultBanDuration             = 15 * time.Minute
	DefaultLockoutThreshold        = 5
	DefaultLockoutDuration         = 15 * time.Minute
	DefaultLockoutCounterReset     = 15 * time.Minute
)

// PathRule is one `path_rule "<prefix>"` block of a listener: requests whose
// API path (after /v1/) starts with Prefix are allowed only from
// AllowedCIDRs. A trailing "*" on the prefix means the same as none.
type PathRule struct {
	Prefix       string
	AllowedCIDRs []netip.Prefix
}

// UserLockout is one `user_lockout "<auth type>"` block, Vault's stanza:
// after Threshold failed logins of one user from one address, that user is
// refused from that address for Duration; failures older than
// CounterReset are forgotten.
type UserLockout struct {
	AuthType     string // "all", "userpass", "approle", ...
	Threshold    int64
	Duration     time.Duration
	CounterReset time.Duration
	Disable      bool
}

// Network is the top-level `network` block.
type Network struct {
	// BlocklistFile holds CIDRs refused everywhere (FireHOL/CrowdSec format).
	BlocklistFile string
	// BlocklistReloadInterval is how often the file is checked for changes.
	BlocklistReloadInterval time.Duration
	// BanThreshold failed logins from one address within BanWindow ban it
	// for BanDuration; 0 disables bans.
	BanThreshold int64
	BanWindow    time.Duration
	BanDuration  time.Duration
}

// DefaultNetwork returns the network defaults: no blocklist, bans on.
func DefaultNetwork() Network {
	return Network{BlocklistReloadInterval: DefaultBlocklistReloadInterval, BanThreshold: DefaultBanThreshold,
		BanWindow: DefaultBanWindow, BanDuration: DefaultBanDuration}
}

// DefaultUserLockout returns Vault's lockout defaults for an auth type.
func DefaultUserLockout(authType string) UserLockout {
	return UserLockout{AuthType: authType, Threshold: DefaultLockoutThreshold,
		Duration: DefaultLockoutDuration, CounterReset: DefaultLockoutCounterReset}
}

// pathRules decodes the path_rule blocks of one item in a listener.
func (d *decoder) pathRules(parent scope, item *ast.ObjectItem, l *Listener) {
	for _, b := range d.blocks("path_rule", item) {
		i := len(l.PathRules)
		sc := scope{key: fmt.Sprintf("%s.path_rule[%d]", parent.key, i),
			block: parent.block + ": " + quote("path_rule", b.label)}
		d.rep.at(sc.key, b.line)
		r := PathRule{Prefix: b.label}
		d.body(sc, b.body, map[string]setter{"allowed_cidrs": prefixesField(&r.AllowedCIDRs)}, nil, nil)
		l.PathRules = append(l.PathRules, r)
	}
}

// userLockout decodes the i-th user_lockout block over Vault's defaults.
func (d *decoder) userLockout(b block, i int) {
	u := DefaultUserLockout(b.label)
	sc := scope{key: fmt.Sprintf("user_lockout[%d]", i), block: quote("user_lockout", b.label)}
	d.rep.at(sc.key, b.line)
	fields := map[string]setter{
		"lockout_threshold":     intField(&u.Threshold),
		"lockout_duration":      durationField(&u.Duration),
		"lockout_counter_reset": durationField(&u.CounterReset),
		"disable_lockout":       boolField(&u.Disable),
	}
	d.body(sc, b.body, fields, nil, nil)
	d.c.UserLockouts = append(d.c.UserLockouts, u)
}

// network decodes the unlabeled network block.
func (d *decoder) network(item *ast.ObjectItem, seen map[string]int) {
	line := itemLine(item)
	ot, ok := item.Val.(*ast.ObjectType)
	if len(item.Keys) != 1 || !ok {
		d.rep.failAt(line, "", "network", "must be a block without a label: network { ... }")
		return
	}
	if d.repeated(scope{}, "network", line, seen) {
		return
	}
	d.rep.at("network", line)
	n := &d.c.Network
	fields := map[string]setter{
		"blocklist_file":            stringField(&n.BlocklistFile),
		"blocklist_reload_interval": durationField(&n.BlocklistReloadInterval),
		"ban_threshold":             intField(&n.BanThreshold),
		"ban_window":                durationField(&n.BanWindow),
		"ban_duration":              durationField(&n.BanDuration),
	}
	list := ot.List
	if list == nil {
		list = &ast.ObjectList{}
	}
	d.body(scope{key: "network", block: "network"}, list, fields, nil, nil)
}

// validateForwarding checks a listener's X-Forwarded-For and path rules.
func (l Listener) validateForwarding(rep *report, key, block string) {
	if l.XForwardedForHopSkips < 0 {
		rep.fail(key+".x_forwarded_for_hop_skips", block, "x_forwarded_for_hop_skips", "must not be negative")
	}
	for i, r := range l.PathRules {
		rkey := fmt.Sprintf("%s.path_rule[%d]", key, i)
		rblock := block + ": " + quote("path_rule", r.Prefix)
		p := strings.TrimPrefix(strings.TrimSuffix(strings.TrimSpace(r.Prefix), "*"), "/")
		if p == "" {
			rep.fail(rkey, rblock, "", `needs a path prefix such as "sys/"`)
		}
		if len(r.AllowedCIDRs) == 0 {
			rep.fail(rkey+".allowed_cidrs", rblock, "allowed_cidrs", "required: at least one CIDR")
		}
		for _, c := range r.AllowedCIDRs {
			if !c.IsValid() || c.Masked() != c {
				rep.fail(rkey+".allowed_cidrs", rblock, "allowed_cidrs", "%q is not a valid CIDR", c.String())
			}
		}
	}
}

// validateNetwork checks the user_lockout and network blocks.
func (c *Config) validateNetwork(rep *report) {
	seen := map[string]bool{}
	for i, u := range c.UserLockouts {
		key := fmt.Sprintf("user_lockout[%d]", i)
		block := quote("user_lockout", u.AuthType)
		switch {
		case u.AuthType == "" || strings.ContainsAny(u.AuthType, "/ \t"):
			rep.fail(key, block, "", `needs an auth type label such as "all" or "userpass"`)
		case seen[u.AuthType]:
			rep.fail(key, block, "", "declared more than once")
		}
		seen[u.AuthType] = true
		if u.Disable {
			continue
		}
		if u.Threshold <= 0 {
			rep.fail(key+".lockout_threshold", block, "lockout_threshold", "must be positive")
		}
		for _, f := range []struct {
			name string
			d    time.Duration
		}{{"lockout_duration", u.Duration}, {"lockout_counter_reset", u.CounterReset}} {
			if f.d <= 0 {
				rep.fail(key+"."+f.name, block, f.name, "must be positive")
			}
		}
	}
	n := c.Network
	if n.BlocklistReloadInterval <= 0 {
		rep.fail("network.blocklist_reload_interval", "network", "blocklist_reload_interval", "must be positive")
	}
	if n.BanThreshold < 0 {
		rep.fail("network.ban_threshold", "network", "ban_threshold", "must not be negative (0 disables bans)")
	}
	if n.BanThreshold > 0 {
		for _, f := range []struct {
			name string
			d    time.Duration
		}{{"ban_window", n.BanWindow}, {"ban_duration", n.BanDuration}} {
			if f.d <= 0 {
				rep.fail("network."+f.name, "network", f.name, "must be positive when ban_threshold is set")
			}
		}
	}
}
