package token

import "errors"

var (
	// ErrInvalidToken is returned for a token or accessor that is unknown,
	// malformed, expired, revoked or used up, and for a token used from an
	// address outside its bound CIDRs. It says nothing about which.
	ErrInvalidToken = errors.New("token: invalid token")
	// ErrTokenLimit is returned by Use when a num_uses token has no use
	// left. Errors carrying it also match ErrInvalidToken.
	ErrTokenLimit = errors.New("token: use limit reached")
	// ErrNotRenewable is returned by Renew for a token created
	// non-renewable or one that never expires.
	ErrNotRenewable = errors.New("token: lease is not renewable")
	// ErrPastMaxTTL is returned by Renew when the token has reached its
	// maximum lifetime (explicit max TTL or the system max TTL).
	ErrPastMaxTTL = errors.New("token: past the max TTL, cannot renew")
	// ErrInvalidParams is returned by Create for parameters out of range
	// (negative TTLs or uses).
	ErrInvalidParams = errors.New("token: invalid token parameters")
	// ErrParentInvalid is returned by Create when the parent token was
	// revoked, expired or used up before its child could be linked to it.
	ErrParentInvalid = errors.New("token: parent token is invalid")
	// ErrRestrictedParent is returned by Create when the parent has a limited
	// number of uses: a child would let it escape that limit.
	ErrRestrictedParent = errors.New("token: restricted use token cannot generate child tokens")
	// ErrNonExpiringChild is returned by Create for a non-expiring token
	// whose parent expires.
	ErrNonExpiringChild = errors.New("token: expiring tokens cannot create non-expiring tokens")
	// ErrBatchToken is returned for what batch tokens cannot do: be
	// renewed, be revoked individually, or create child tokens.
	ErrBatchToken = errors.New("token: not supported for batch tokens")
	// ErrBatchUnavailable is returned by Create for a batch token when the
	// Store was built without Options.BatchKey.
	ErrBatchUnavailable = errors.New("token: batch tokens are not enabled")
)
