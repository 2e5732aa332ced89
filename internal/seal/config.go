package seal

import (
	"encoding/json"
	"fmt"
)

// maxShares is the most shares Shamir's scheme over GF(2^8) can produce.
const maxShares = 255

// Config is the seal configuration the core persists, in plaintext, at
// "core/seal/config". For Shamir seals SecretShares and SecretThreshold
// describe the unseal key shares; for auto seals they are 1 and 1.
type Config struct {
	Type            string `json:"type"`
	SecretShares    int    `json:"secret_shares"`
	SecretThreshold int    `json:"secret_threshold"`
}

// Validate applies Vault's rules: a type is set, 1 to 255 shares, a
// threshold between 1 and the number of shares, and a threshold above 1
// whenever there is more than one share.
func (c Config) Validate() error {
	switch {
	case c.Type == "":
		return fmt.Errorf("%w: type is empty", ErrInvalidConfig)
	case c.SecretShares < 1 || c.SecretShares > maxShares:
		return fmt.Errorf("%w: secret_shares must be between 1 and %d", ErrInvalidConfig, maxShares)
	case c.SecretThreshold < 1 || c.SecretThreshold > c.SecretShares:
		return fmt.Errorf("%w: secret_threshold must be between 1 and secret_shares", ErrInvalidConfig)
	case c.SecretShares > 1 && c.SecretThreshold == 1:
		return fmt.Errorf("%w: secret_threshold must be greater than 1 when secret_shares is greater than 1", ErrInvalidConfig)
	}
	return nil
}

// ParseConfig decodes a stored Config and validates it.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
