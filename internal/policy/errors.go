package policy

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidPolicy is wrapped by every error Parse and Format return for
	// text that is not a valid policy; the concrete error is a *ParseError.
	ErrInvalidPolicy = errors.New("policy: invalid policy")
	// ErrInvalidName is returned by ValidateName for a malformed name.
	ErrInvalidName = errors.New("policy: invalid policy name")
	// ErrReservedName is returned by ValidateName for names users may not
	// write, such as "root".
	ErrReservedName = errors.New("policy: reserved policy name")
	// ErrRootWithOthers is returned by NewACL when the "root" policy is
	// combined with other policies, which Vault refuses too.
	ErrRootWithOthers = errors.New("policy: root policy combined with other policies")
)

// ParseError describes why a policy text was rejected. Its message names the
// policy (when named) and, when known, the line: `policy "ops": line 3: unknown
// capability "reed"`. It matches ErrInvalidPolicy with errors.Is.
type ParseError struct {
	Policy string // the name given to Parse
	Line   int    // 1-based; 0 when the position is unknown (JSON input)
	Msg    string
}

func (e *ParseError) Error() string {
	msg := e.Msg
	if e.Line > 0 {
		msg = fmt.Sprintf("line %d: %s", e.Line, msg)
	}
	if e.Policy != "" {
		msg = fmt.Sprintf("policy %q: %s", e.Policy, msg)
	}
	return msg
}

// Unwrap lets errors.Is(err, ErrInvalidPolicy) hold.
func (e *ParseError) Unwrap() error { return ErrInvalidPolicy }
