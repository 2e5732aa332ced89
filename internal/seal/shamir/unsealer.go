package shamir

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// ErrDuplicateShare is returned by Unsealer.Add for a share already given
// in the current attempt.
var ErrDuplicateShare = errors.New("shamir: duplicate share")

// Unsealer collects the shares of one unseal attempt, as Vault's
// sys/unseal does: shares arrive one request at a time, and the threshold-th
// share completes the attempt. An Unsealer is safe for concurrent use and
// prints as [REDACTED].
type Unsealer struct {
	mu        sync.Mutex
	threshold int
	shares    [][]byte
	nonce     string
}

// NewUnsealer returns an Unsealer that needs threshold (1 to 255) shares.
func NewUnsealer(threshold int) (*Unsealer, error) {
	if threshold < 1 || threshold > maxShares {
		return nil, fmt.Errorf("%w: threshold must be between 1 and %d", ErrInvalidParameters, maxShares)
	}
	u := &Unsealer{threshold: threshold}
	u.resetLocked()
	return u, nil
}

// Add adds one share to the attempt. Until the threshold is reached it
// returns the number of shares collected. The threshold-th share combines
// them: done is true, key is the combined key (the caller owns it and
// checks it by unwrapping), progress is the threshold, and the attempt
// resets. A rejected share (empty, of another length than the first, or a
// duplicate) leaves the attempt as it was; a combine failure resets it.
func (u *Unsealer) Add(share []byte) (progress int, key []byte, done bool, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(share) == 0 {
		return len(u.shares), nil, false, fmt.Errorf("%w: empty share", ErrInvalidShares)
	}
	for _, s := range u.shares {
		if len(s) != len(share) {
			return len(u.shares), nil, false, fmt.Errorf("%w: share length differs from the first share", ErrInvalidShares)
		}
		if subtle.ConstantTimeCompare(s, share) == 1 {
			return len(u.shares), nil, false, ErrDuplicateShare
		}
	}
	u.shares = append(u.shares, append([]byte(nil), share...))
	if len(u.shares) < u.threshold {
		return len(u.shares), nil, false, nil
	}
	key, err = Combine(u.shares)
	u.resetLocked()
	if err != nil {
		return 0, nil, false, err
	}
	return u.threshold, key, true, nil
}

// Progress returns the number of shares collected in this attempt.
func (u *Unsealer) Progress() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.shares)
}

// Threshold returns the number of shares an attempt needs.
func (u *Unsealer) Threshold() int { return u.threshold }

// Nonce identifies the current attempt; it changes whenever the attempt
// resets (Reset, completion, combine failure). Vault's seal-status shows it
// while Progress is above zero.
func (u *Unsealer) Nonce() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.nonce
}

// Reset zeroes the collected shares and starts a new attempt.
func (u *Unsealer) Reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.resetLocked()
}

func (u *Unsealer) resetLocked() {
	for _, s := range u.shares {
		clear(s)
	}
	u.shares = nil
	u.nonce = newNonce()
}

// newNonce returns a random version 4 UUID (RFC 9562), the shape of Vault's
// unseal nonce.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it aborts the program instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// String, GoString, Format and LogValue keep the shares out of output.
func (*Unsealer) String() string             { return redactedText }
func (*Unsealer) GoString() string           { return redactedText }
func (*Unsealer) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redactedText) }
func (*Unsealer) LogValue() slog.Value       { return slog.StringValue(redactedText) }
