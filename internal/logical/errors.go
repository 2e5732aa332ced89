package logical

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the HTTP layer, which maps each kind to a
// status code. Engines pick a kind; only httpapi knows the numbers.
type Kind int

// Error kinds.
const (
	KindInternal Kind = iota
	KindInvalidRequest
	KindPermissionDenied
	KindUnsupportedPath
	KindUnsupportedOperation
	KindSealed
	KindNotInitialized
	KindRateLimited
	KindTooLarge
	KindConflict
	KindStandby
)

// Error is an error with a kind and a message that is safe to show clients.
// It never carries secret material.
type Error struct {
	Kind Kind
	Msg  string
	// Err is an optional cause kept for logs; it is not shown to clients.
	Err error
}

func (e *Error) Error() string { return e.Msg }

// Unwrap exposes the cause for errors.Is/As.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error of the same kind and message, so the
// sentinels below match errors built with Errorf of the same kind only when
// the message is equal; use KindOf to test the kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Msg == e.Msg
}

// Errorf builds an *Error of the given kind.
func Errorf(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err, KindInternal for errors without one.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Sentinels shared across the pipeline.
var (
	ErrPermissionDenied     = &Error{Kind: KindPermissionDenied, Msg: "permission denied"}
	ErrUnsupportedPath      = &Error{Kind: KindUnsupportedPath, Msg: "unsupported path"}
	ErrUnsupportedOperation = &Error{Kind: KindUnsupportedOperation, Msg: "unsupported operation"}
	ErrSealed               = &Error{Kind: KindSealed, Msg: "Vault is sealed"}
	ErrNotInitialized       = &Error{Kind: KindNotInitialized, Msg: "Vault is not initialized"}
	ErrInvalidToken         = &Error{Kind: KindPermissionDenied, Msg: "invalid token"}
	// ErrForward tells the HTTP layer of a standby node to hand the request
	// to the active node; no response data from the standby is sent.
	ErrForward = &Error{Kind: KindStandby, Msg: "request must be handled by the active node"}
)

// InvalidRequest is shorthand for Errorf(KindInvalidRequest, ...).
func InvalidRequest(format string, args ...any) error {
	return Errorf(KindInvalidRequest, format, args...)
}
