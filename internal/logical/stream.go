package logical

import "io"

// Stream is a response body that is not a JSON envelope (a snapshot, for
// example): the HTTP layer sends ContentType and a success status, then
// calls WriteTo once. An error from WriteTo after bytes went out can only
// cut the body short, so a handler does everything that can fail cleanly
// before it returns the Stream. Close, if set, is called after WriteTo;
// a response that is never sent (its audit entry failed) is not closed,
// so a Stream must hold nothing the garbage collector cannot release.
type Stream struct {
	ContentType string
	WriteTo     func(w io.Writer) error
	Close       func() error
}
