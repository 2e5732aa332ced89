package audit

import "errors"

// Sentinel errors.
var (
	// ErrNoSink is returned by Broker.Log when no required sink accepted an
	// entry: the caller must fail the request.
	ErrNoSink = errors.New("audit: no required audit sink accepted the entry")
	// ErrUnknownSink is returned for a sink name the broker does not have.
	ErrUnknownSink = errors.New("audit: unknown audit sink")
	// ErrLocked is returned by Hash while the broker has no keys (sealed).
	ErrLocked = errors.New("audit: audit keys are not loaded (sealed)")
	// ErrClosed is returned when writing to a closed broker.
	ErrClosed = errors.New("audit: broker is closed")
	// ErrBadConfig reports an invalid sink option.
	ErrBadConfig = errors.New("audit: invalid audit sink option")
	// ErrTampered is returned by Verify when the log fails verification; the
	// wrapping error names the entry.
	ErrTampered = errors.New("audit: log verification failed")
)
