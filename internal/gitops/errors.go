package gitops

import "errors"

// Sentinel errors. Callers test them with errors.Is; messages wrapping them
// name the file or key path involved.
var (
	// ErrNotSealed means the file has no recipient block.
	ErrNotSealed = errors.New("file is not sealed")
	// ErrMalformed means a sealed value or the recipient block cannot be parsed.
	ErrMalformed = errors.New("malformed sealed data")
	// ErrDecrypt means a sealed value failed authentication: it was changed,
	// truncated, or moved from another key path or file.
	ErrDecrypt = errors.New("sealed value does not open")
	// ErrNoIdentity means none of the given identities or servers could
	// unwrap the file's data key.
	ErrNoIdentity = errors.New("no identity can open this file")
	// ErrRecipientsModified means the recipient block failed its MAC check.
	ErrRecipientsModified = errors.New("recipient block was modified")
	// ErrUnsupported means a file's format or layout cannot be sealed.
	ErrUnsupported = errors.New("unsupported input")
	// ErrNoServer means a file has a coffer:// recipient to wrap for and no
	// server is configured.
	ErrNoServer = errors.New("no coffer server configured (set COFFER_ADDR and COFFER_TOKEN)")
	// ErrNoRule means no .coffer.yaml rule matches a file.
	ErrNoRule = errors.New("no rule matches")
)
