// Package netctl is Coffer's network-controls engine: client-IP resolution
// behind trusted proxies, per-listener and per-path address rules, a
// reloadable CIDR blocklist, rate-limit quotas, login lockout and automatic
// address bans. It decides; the HTTP layer turns its decisions into status
// codes.
package netctl

import "errors"

// Sentinel errors. Decisions that deny a client wrap one of these, so the
// HTTP layer and the audit log can tell the reason while the client only
// ever sees "permission denied".
var (
	// ErrBlocked means the client address is on the blocklist.
	ErrBlocked = errors.New("netctl: client address is on the blocklist")
	// ErrBanned means the client address is temporarily banned after
	// repeated login failures.
	ErrBanned = errors.New("netctl: client address is temporarily banned")
	// ErrNotAllowed means the listener's allowed_cidrs or a path rule does
	// not include the client address.
	ErrNotAllowed = errors.New("netctl: client address not allowed")
	// ErrLockedOut means the user is locked out on that auth mount from
	// that address after too many failed logins.
	ErrLockedOut = errors.New("netctl: user is locked out")
	// ErrForwardedFor means the X-Forwarded-For handling rejected the
	// request (header missing, from an unauthorized peer, or too short).
	ErrForwardedFor = errors.New("netctl: x-forwarded-for rejected")
	// ErrInvalidQuota means a rate-limit quota's settings are invalid.
	ErrInvalidQuota = errors.New("netctl: invalid quota")
)
