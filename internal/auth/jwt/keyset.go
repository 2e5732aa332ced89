package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"

	"github.com/go-jose/go-jose/v4"

	"github.com/cofferdev/coffer/internal/logical"
)

// maxJWKSBytes bounds a fetched key set.
const maxJWKSBytes = 1 << 20

// errNoKey is returned when no key verifies a token's signature.
var errNoKey = errors.New("jwt: no key verifies the signature")

// remoteKeys is a JSON Web Key Set fetched from a URL and cached. A token
// whose key is not in the cache makes it fetch the set again, one fetch at
// a time, so a key rotation at the provider needs no action and a flood of
// tokens with unknown key ids makes at most one request at once. The cache
// is replaced before the fetch's waiters run, so a key the provider removed
// stops verifying as soon as one fetch has seen it gone.
type remoteKeys struct {
	url    string
	client *http.Client
	fetch  chan struct{} // one-slot semaphore for fetches

	mu   sync.Mutex
	keys []jose.JSONWebKey
}

func newRemoteKeys(url string, client *http.Client) *remoteKeys {
	return &remoteKeys{url: url, client: client, fetch: make(chan struct{}, 1)}
}

// VerifySignature implements oidc.KeySet.
func (k *remoteKeys) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, jwsAlgs())
	if err != nil {
		return nil, errNoKey
	}
	kid := jws.Signatures[0].Header.KeyID
	k.mu.Lock()
	cached := k.keys
	k.mu.Unlock()
	if p, ok := verifyWith(jws, cached, kid); ok {
		return p, nil
	}
	keys, err := k.refresh(ctx, cached)
	if err != nil {
		return nil, err
	}
	if p, ok := verifyWith(jws, keys, kid); ok {
		return p, nil
	}
	return nil, errNoKey
}

// refresh fetches the key set unless another fetch replaced stale while
// this one waited its turn.
func (k *remoteKeys) refresh(ctx context.Context, stale []jose.JSONWebKey) ([]jose.JSONWebKey, error) {
	select {
	case k.fetch <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-k.fetch }()
	k.mu.Lock()
	cur := k.keys
	k.mu.Unlock()
	if !sameKeys(cur, stale) {
		return cur, nil
	}
	keys, err := fetchJWKS(ctx, k.client, k.url)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.keys = keys
	k.mu.Unlock()
	return keys, nil
}

// sameKeys reports whether a and b are the same cached slice.
func sameKeys(a, b []jose.JSONWebKey) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// verifyWith tries the keys with the token's key id (every key when the
// token names none).
func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey, kid string) ([]byte, bool) {
	for i := range keys {
		if kid != "" && keys[i].KeyID != kid {
			continue
		}
		if p, err := jws.Verify(&keys[i]); err == nil {
			return p, true
		}
	}
	return nil, false
}

// fetchJWKS downloads and parses a key set with at least one key.
func fetchJWKS(ctx context.Context, client *http.Client, url string) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, logical.InvalidRequest("status %d", resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, maxJWKSBytes)).Decode(&set); err != nil {
		return nil, logical.InvalidRequest("malformed key set")
	}
	if len(set.Keys) == 0 {
		return nil, logical.InvalidRequest("no keys found")
	}
	return set.Keys, nil
}

// jwsAlgs lists the algorithms go-jose may parse; the verifier has already
// refused algorithms the config does not allow.
func jwsAlgs() []jose.SignatureAlgorithm {
	out := make([]jose.SignatureAlgorithm, 0, len(asymmetricAlgs))
	for _, a := range asymmetricAlgs {
		out = append(out, jose.SignatureAlgorithm(a))
	}
	return slices.Clip(out)
}
