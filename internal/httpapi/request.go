package httpapi

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// maxPathLength bounds API paths.
const maxPathLength = 4096

// buildRequest decodes an HTTP request into a logical request. On failure
// it returns the status to answer with and a client-safe error.
func (h *Handler) buildRequest(w http.ResponseWriter, r *http.Request) (*logical.Request, int, error) {
	op, ok := operationFor(r)
	if !ok {
		return nil, http.StatusMethodNotAllowed, fmt.Errorf("method %s is not supported", r.Method)
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	if err := validatePath(path); err != nil {
		return nil, http.StatusBadRequest, err
	}
	if op == logical.ListOperation && !strings.HasSuffix(path, "/") {
		path += "/"
	}
	var data map[string]any
	var err error
	switch op {
	case logical.ReadOperation, logical.ListOperation, logical.DeleteOperation:
		data = queryData(r)
		if op == logical.DeleteOperation && r.ContentLength != 0 {
			body, berr := decodeBody(r)
			if berr != nil {
				return nil, bodyStatus(berr), berr
			}
			for k, v := range body {
				if data == nil {
					data = map[string]any{}
				}
				data[k] = v
			}
		}
	default:
		if data, err = decodeBody(r); err != nil {
			return nil, bodyStatus(err), err
		}
	}
	wrapTTL, err := wrapTTLHeader(r)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	req := &logical.Request{
		ID: newRequestID(), Operation: op, Path: path, Data: data,
		ClientToken: clientToken(r), RemoteAddr: remoteIP(r), WrapTTL: wrapTTL,
	}
	if h.auditHeaders {
		req.Headers = safeHeaders(r.Header)
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		req.Connection = &logical.Connection{PeerCertificates: r.TLS.PeerCertificates}
	}
	return req, 0, nil
}

func validatePath(path string) error {
	switch {
	case path == "":
		return errors.New("missing API path")
	case len(path) > maxPathLength:
		return errors.New("API path is too long")
	case strings.Contains(path, "//"), strings.HasPrefix(path, "/"):
		return errors.New("API path has an empty segment")
	}
	for rest := path; rest != ""; {
		seg, next, _ := strings.Cut(rest, "/")
		if seg == ".." || seg == "." {
			return errors.New("API path has a relative segment")
		}
		rest = next
	}
	return nil
}

// queryData turns query parameters into request data (the first value of
// each), dropping "list" which only selects the operation.
func queryData(r *http.Request) map[string]any {
	if r.URL.RawQuery == "" {
		return nil
	}
	q := r.URL.Query()
	if len(q) == 0 {
		return nil
	}
	data := make(map[string]any, len(q))
	for k, v := range q {
		if k == "list" || len(v) == 0 {
			continue
		}
		data[k] = v[0]
	}
	return data
}

// errTooLarge marks a body over the size limit.
var errTooLarge = errors.New("request body is too large")

func bodyStatus(err error) int {
	if errors.Is(err, errTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// decodeBody reads the request body as one JSON object.
func decodeBody(r *http.Request) (map[string]any, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, errors.New("failed to read request body")
	}
	return DecodeJSONObject(body)
}

// DecodeJSONObject parses a request body: empty means no data; otherwise it
// must be exactly one JSON object. Numbers stay json.Number so large
// integers survive. Error messages never echo the input.
func DecodeJSONObject(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	if m, ok := decodePlainObject(body); ok {
		return m, nil
	}
	return decodeJSONObjectStd(body)
}

// decodeJSONObjectStd is DecodeJSONObject by encoding/json, for the bodies
// decodePlainObject leaves to it (jsonbody.go).
func decodeJSONObjectStd(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errors.New("failed to parse JSON input: malformed JSON")
	}
	if dec.More() {
		return nil, errors.New("failed to parse JSON input: unexpected data after the JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("failed to parse JSON input: unexpected data after the JSON object")
	}
	if v == nil {
		return nil, nil // "null", as the Vault client sends for an empty body
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("failed to parse JSON input: the body must be a JSON object")
	}
	return m, nil
}

func wrapTTLHeader(r *http.Request) (d time.Duration, err error) {
	v := r.Header.Get("X-Vault-Wrap-TTL")
	if v == "" {
		return 0, nil
	}
	d, err = logical.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("invalid X-Vault-Wrap-TTL: %v", err)
	}
	if d == 0 {
		return 0, errors.New("invalid X-Vault-Wrap-TTL: must be greater than zero")
	}
	return d, nil
}

// newRequestID returns a random UUID-shaped request id, built in one
// allocation.
func newRequestID() string {
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	var out [36]byte
	hex.Encode(out[0:8], raw[0:4])
	hex.Encode(out[9:13], raw[4:6])
	hex.Encode(out[14:18], raw[6:8])
	hex.Encode(out[19:23], raw[8:10])
	hex.Encode(out[24:36], raw[10:16])
	out[8], out[13], out[18], out[23] = '-', '-', '-', '-'
	return string(out[:])
}
