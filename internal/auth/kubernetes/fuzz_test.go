package kubernetes

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

// FuzzParseToken feeds arbitrary login JWTs to the unverified-claims peek:
// it must never panic, and whatever it accepts names a full service account.
func FuzzParseToken(f *testing.F) {
	s := newSigner(f)
	f.Add(s.sign(f, projectedClaims("apps", "web", "u-1", "vault")))
	f.Add(s.sign(f, map[string]any{"kubernetes.io/serviceaccount/namespace": "a",
		"kubernetes.io/serviceaccount/service-account.name": "b", "kubernetes.io/serviceaccount/service-account.uid": "c"}))
	f.Add(s.sign(f, map[string]any{"kubernetes.io": map[string]any{"namespace": 1}}))
	f.Add("eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString([]byte(`{"aud":["x"]}`)) + ".")
	f.Add("a.b.c")
	f.Add("")
	now := time.Now()
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := parseToken(raw, nil, now)
		if err != nil {
			if !errors.Is(err, ErrBadToken) {
				t.Fatalf("error %v does not wrap ErrBadToken", err)
			}
			return
		}
		if c.Namespace == "" || c.Name == "" || c.UID == "" {
			t.Fatalf("accepted incomplete claims %+v", c)
		}
	})
}

// FuzzDecodeReview feeds arbitrary TokenReview answers to the decoder: it
// must never panic, and whatever it accepts is a service account.
func FuzzDecodeReview(f *testing.F) {
	f.Add(201, []byte(`{"status":{"authenticated":true,"user":{"username":"system:serviceaccount:apps:web","uid":"u"},"audiences":["vault"]}}`))
	f.Add(201, []byte(`{"status":{"authenticated":false,"error":"invalid"}}`))
	f.Add(403, []byte(`{"kind":"Status","message":"forbidden"}`))
	f.Add(200, []byte(`{"status":{"authenticated":true,"user":{"username":"system:serviceaccount::"}}}`))
	f.Add(500, []byte(`not json`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		r, err := decodeReview(status, body)
		if err != nil {
			if !errors.Is(err, ErrReview) && !errors.Is(err, ErrNotAuthenticated) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			return
		}
		if status/100 != 2 || r.Namespace == "" || r.Name == "" || r.UID == "" {
			t.Fatalf("accepted status %d as %+v", status, r)
		}
	})
}

// FuzzParseSelector feeds arbitrary namespace selectors (JSON or YAML from
// a role write) to the parser: it must never panic, and what it accepts
// can be matched.
func FuzzParseSelector(f *testing.F) {
	f.Add(`{"matchLabels":{"a":"b"}}`)
	f.Add("matchExpressions:\n- key: tier\n  operator: In\n  values: [prod]\n")
	f.Add(`{"matchExpressions":[{"key":"a","operator":"Exists"}]}`)
	f.Add(`&a [*a]`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := parseSelector(s)
		if err != nil {
			return
		}
		sel.matches(map[string]string{"a": "b", "tier": "prod"})
		sel.matches(nil)
	})
}
