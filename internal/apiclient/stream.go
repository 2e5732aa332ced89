package apiclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/cofferdev/coffer/internal/version"
)

// Stream sends a request whose body, if not nil, is raw bytes (a snapshot
// upload) and returns the body of a 2xx answer unread, for endpoints that
// do not answer JSON (a snapshot download); the caller closes it. Any other
// status is a *ResponseError.
func (c *Client) Stream(ctx context.Context, method, path string, body io.Reader) (io.ReadCloser, error) {
	path = strings.TrimPrefix(path, "/")
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/" + path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s /v1/%s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	req.Header.Set("X-Vault-Request", "true")
	req.Header.Set("User-Agent", "coffer/"+version.Version)
	if c.token != "" {
		req.Header.Set("X-Vault-Token", c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s /v1/%s: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		defer closeBody(resp)
		_, err := c.responseError(resp, method, path)
		return nil, err
	}
	return resp.Body, nil
}
