package core

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"math/big"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/seal"
	"github.com/cofferdev/coffer/internal/seal/shamir"
)

// OTPLength is the length of a generate-root one-time pad: as long as a
// root token ("hvs." plus 24 characters), so the XOR covers every byte.
const OTPLength = 28

const otpAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// generateRootAttempt collects key shares to mint a new root token.
type generateRootAttempt struct {
	otp       string
	collector *shamir.Unsealer
}

// GenerateRootStatus is what sys/generate-root/attempt reports.
type GenerateRootStatus struct {
	Started      bool
	Nonce        string
	Progress     int
	Required     int
	Complete     bool
	EncodedToken string
	OTP          string // only in the response that started the attempt
	OTPLength    int
}

// GenerateRootInit starts an attempt. If otp is empty one is generated and
// returned once; otherwise it must be OTPLength characters.
func (c *Core) GenerateRootInit(ctx context.Context, otp string) (*GenerateRootStatus, error) {
	if c.Sealed() {
		return nil, logical.ErrSealed
	}
	if err := c.requireActive(ctx, "generate-root"); err != nil {
		return nil, err
	}
	_, cur, err := c.currentKeyConfig(ctx)
	if err != nil {
		return nil, err
	}
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	if c.genRoot != nil {
		return nil, logical.InvalidRequest("root generation already in progress")
	}
	generated := otp == ""
	if generated {
		if otp, err = randomOTP(); err != nil {
			return nil, err
		}
	} else if len(otp) != OTPLength {
		return nil, logical.InvalidRequest("otp must be %d characters", OTPLength)
	}
	collector, err := shamir.NewUnsealer(cur.SecretThreshold)
	if err != nil {
		return nil, err
	}
	c.genRoot = &generateRootAttempt{otp: otp, collector: collector}
	s := c.genRootStatusLocked(cur)
	if generated {
		s.OTP = otp
	}
	return s, nil
}

func randomOTP() (string, error) {
	b := make([]byte, OTPLength)
	max := big.NewInt(int64(len(otpAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = otpAlphabet[n.Int64()]
	}
	return string(b), nil
}

// GenerateRootStatus reports the attempt in progress, if any.
func (c *Core) GenerateRootStatus(ctx context.Context) (*GenerateRootStatus, error) {
	_, cur, err := c.currentKeyConfig(ctx)
	if err != nil {
		return nil, err
	}
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	return c.genRootStatusLocked(cur), nil
}

func (c *Core) genRootStatusLocked(cur seal.Config) *GenerateRootStatus {
	s := &GenerateRootStatus{Required: cur.SecretThreshold, OTPLength: OTPLength}
	if c.genRoot != nil {
		s.Started, s.Nonce, s.Progress = true, c.genRoot.collector.Nonce(), c.genRoot.collector.Progress()
	}
	return s
}

// GenerateRootCancel abandons the attempt in progress.
func (c *Core) GenerateRootCancel() {
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	c.genRoot = nil
}

// GenerateRootUpdate adds one share. With the last share the key is
// verified and a new root token is returned XORed with the OTP and base64
// encoded (raw standard encoding), as Vault does.
func (c *Core) GenerateRootUpdate(ctx context.Context, share []byte, nonce string) (*GenerateRootStatus, error) {
	if c.Sealed() {
		return nil, logical.ErrSealed
	}
	_, cur, err := c.currentKeyConfig(ctx)
	if err != nil {
		return nil, err
	}
	c.sealLock.Lock()
	defer c.sealLock.Unlock()
	if c.genRoot == nil {
		return nil, logical.InvalidRequest("no root generation in progress")
	}
	if subtle.ConstantTimeCompare([]byte(nonce), []byte(c.genRoot.collector.Nonce())) != 1 {
		return nil, logical.InvalidRequest("nonce does not match the root generation in progress")
	}
	status := c.genRootStatusLocked(cur)
	_, key, done, err := c.genRoot.collector.Add(share)
	if err != nil {
		return nil, logical.InvalidRequest("%v", err)
	}
	status.Progress = c.genRoot.collector.Progress()
	if !done {
		return status, nil
	}
	attempt := c.genRoot
	c.genRoot = nil
	defer clear(key)
	if err := c.verifyOperatorKey(ctx, key); err != nil {
		return nil, err
	}
	raw, err := c.createRootToken(ctx)
	if err != nil {
		return nil, err
	}
	if len(raw) != len(attempt.otp) {
		return nil, fmt.Errorf("core: root token length %d does not match otp length %d", len(raw), len(attempt.otp))
	}
	enc := make([]byte, len(raw))
	subtle.XORBytes(enc, []byte(raw), []byte(attempt.otp))
	c.logger.Info("core: root token generated")
	status.Complete, status.EncodedToken, status.Progress = true, base64.RawStdEncoding.EncodeToString(enc), status.Required
	return status, nil
}

// DecodeRootToken reverses the generate-root encoding.
func DecodeRootToken(encoded, otp string) (string, error) {
	b, err := base64.RawStdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("decode token: %w", err)
	}
	if len(b) != len(otp) {
		return "", fmt.Errorf("decode token: length does not match the otp")
	}
	out := make([]byte, len(b))
	subtle.XORBytes(out, b, []byte(otp))
	return string(out), nil
}
