package transit

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strconv"

	"github.com/cofferdev/coffer/internal/logical"
)

// maxRandomBytes is Vault's upper bound for random/.
const maxRandomBytes = 128 * 1024

func (b *Backend) randomPaths() []*logical.Path {
	return []*logical.Path{
		{
			Pattern: `random(?:/(?P<source>platform|seal|all))?(?:/(?P<urlbytes>[^/]+))?`,
			Standby: logical.StandbyLocal,
			Fields: map[string]*logical.Field{
				"bytes":  {Type: logical.TypeInt, Default: 32},
				"format": {Type: logical.TypeString, Default: "base64"},
			},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: handleRandom},
			Help:       "Return random bytes from the platform's CSPRNG.",
		},
		{
			Pattern: `hash(?:/(?P<urlalgorithm>[^/]+))?`,
			Standby: logical.StandbyLocal,
			Fields: map[string]*logical.Field{
				"input":     {Type: logical.TypeString, Required: true},
				"algorithm": {Type: logical.TypeString, Default: "sha2-256"},
				"format":    {Type: logical.TypeString, Default: "hex"},
			},
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: handleHash},
			Help:       "Hash base64 input.",
		},
	}
}

// encodeOutput renders b as hex or base64.
func encodeOutput(b []byte, format string) (string, error) {
	switch format {
	case "hex":
		return hex.EncodeToString(b), nil
	case "base64":
		return base64.StdEncoding.EncodeToString(b), nil
	}
	return "", logical.InvalidRequest("unsupported encoding format %s; must be \"hex\" or \"base64\"", format)
}

// handleRandom serves random/: every source ("platform", "seal", "all")
// reads the platform CSPRNG, as there is no HSM entropy source here.
func handleRandom(_ context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	n := d.Int("bytes")
	if s := d.String("urlbytes"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			return nil, logical.InvalidRequest("error parsing url-set byte count: invalid number")
		}
		n = v
	}
	switch {
	case n < 1:
		return nil, logical.InvalidRequest("number of bytes to generate must be positive")
	case n > maxRandomBytes:
		return nil, logical.InvalidRequest("number of bytes to generate exceeds the maximum of %d", maxRandomBytes)
	}
	buf := make([]byte, n)
	rand.Read(buf)
	out, err := encodeOutput(buf, d.String("format"))
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"random_bytes": out}), nil
}

func handleHash(_ context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	alg, err := hashAlgorithm(algorithmOf(d, "algorithm"))
	if err != nil {
		return nil, err
	}
	input, err := base64.StdEncoding.DecodeString(d.String("input"))
	if err != nil {
		return nil, logical.InvalidRequest("unable to decode input as base64")
	}
	out, err := encodeOutput(alg.sum(input), d.String("format"))
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"sum": out}), nil
}
