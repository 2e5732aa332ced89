package apiclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
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
	resp, err := c.roundTrip(req, method, path)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		defer closeBody(resp)
		_, err := c.responseError(resp, method, path)
		return nil, err
	}
	return resp.Body, nil
}
