package seal

import "errors"

var (
	// ErrUnwrap is returned by UnwrapWithKey, and by every Seal's Unwrap,
	// when a blob cannot be unwrapped: wrong key, altered or malformed blob.
	// It deliberately says nothing more.
	ErrUnwrap = errors.New("seal: cannot unwrap")
	// ErrKeyLength is returned by WrapWithKey for a key that is not KeySize
	// bytes long.
	ErrKeyLength = errors.New("seal: key must be 32 bytes")
	// ErrInvalidConfig is returned by Config.Validate and ParseConfig.
	ErrInvalidConfig = errors.New("seal: invalid configuration")
)
