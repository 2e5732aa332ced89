// Package shamir is Coffer's default seal: the key that wraps the root key
// is split into Shamir shares, and operators unseal by entering enough of
// them.
package shamir

import (
	"errors"
	"fmt"

	sss "github.com/openbao/openbao/sdk/v2/helper/shamir"
)

// maxShares is the most shares a split over GF(2^8) can produce.
const maxShares = 255

var (
	// ErrInvalidParameters is returned by Split for share counts and
	// thresholds that break Vault's rules (see seal.Config.Validate) or an
	// empty secret.
	ErrInvalidParameters = errors.New("shamir: invalid split parameters")
	// ErrInvalidShares is returned by Combine, and by Unsealer.Add, for
	// shares that cannot be combined: none, empty, of different lengths, or
	// with the same x coordinate.
	ErrInvalidShares = errors.New("shamir: invalid shares")
)

// Split splits secret into parts shares, any threshold of which recover it.
// Each share is len(secret)+1 bytes (the last byte is its x coordinate),
// except that with one part the single share is the secret itself, as in
// Vault.
func Split(secret []byte, parts, threshold int) ([][]byte, error) {
	switch {
	case len(secret) == 0:
		return nil, fmt.Errorf("%w: empty secret", ErrInvalidParameters)
	case parts < 1 || parts > maxShares:
		return nil, fmt.Errorf("%w: parts must be between 1 and %d", ErrInvalidParameters, maxShares)
	case threshold < 1 || threshold > parts:
		return nil, fmt.Errorf("%w: threshold must be between 1 and parts", ErrInvalidParameters)
	case parts > 1 && threshold == 1:
		return nil, fmt.Errorf("%w: threshold must be greater than 1 when parts is greater than 1", ErrInvalidParameters)
	case parts == 1:
		return [][]byte{append([]byte(nil), secret...)}, nil
	}
	shares, err := sss.Split(secret, parts, threshold)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidParameters, err)
	}
	return shares, nil
}

// Combine recovers a secret from shares. A single share is returned as the
// secret (the one-share case of Split). Shares of the wrong split, or too
// few of them, combine to a wrong secret without error: the seal's Unwrap
// is what detects it.
func Combine(shares [][]byte) ([]byte, error) {
	switch len(shares) {
	case 0:
		return nil, fmt.Errorf("%w: no shares", ErrInvalidShares)
	case 1:
		if len(shares[0]) == 0 {
			return nil, fmt.Errorf("%w: empty share", ErrInvalidShares)
		}
		return append([]byte(nil), shares[0]...), nil
	}
	secret, err := sss.Combine(shares)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidShares, err)
	}
	return secret, nil
}
