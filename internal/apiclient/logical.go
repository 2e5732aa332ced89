package apiclient

import (
	"context"
	"net/http"
	"net/url"
)

// Read GETs path. As in Vault's client, a 404 is not an error: it yields a
// nil Secret, or the Secret the body carried when it had data or warnings.
func (c *Client) Read(ctx context.Context, path string, query url.Values) (*Secret, error) {
	return notFoundIsNil(c.Do(ctx, http.MethodGet, path, nil, query))
}

// List lists the keys under path (GET ?list=true). A 404, Vault's answer
// for an empty list, yields a nil Secret and no error.
func (c *Client) List(ctx context.Context, path string) (*Secret, error) {
	return notFoundIsNil(c.Do(ctx, MethodList, path, nil, nil))
}

// Write PUTs data to path, as Vault's client does for writes.
func (c *Client) Write(ctx context.Context, path string, data map[string]any) (*Secret, error) {
	return c.Do(ctx, http.MethodPut, path, orEmpty(data), nil)
}

// Patch sends data to path as a JSON merge patch (RFC 7396).
func (c *Client) Patch(ctx context.Context, path string, data map[string]any) (*Secret, error) {
	return c.Do(ctx, http.MethodPatch, path, orEmpty(data), nil)
}

// Delete DELETEs path.
func (c *Client) Delete(ctx context.Context, path string, query url.Values) (*Secret, error) {
	return c.Do(ctx, http.MethodDelete, path, nil, query)
}

func notFoundIsNil(s *Secret, err error) (*Secret, error) {
	if err != nil && IsStatus(err, http.StatusNotFound) {
		return s, nil
	}
	return s, err
}

// orEmpty sends {} rather than null for a nil map.
func orEmpty(data map[string]any) map[string]any {
	if data == nil {
		return map[string]any{}
	}
	return data
}
