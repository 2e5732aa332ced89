package kubernetes

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// maxAPIBody bounds what is read of an API server answer.
const maxAPIBody = 1 << 20

// apiTimeout bounds one call to the API server.
const apiTimeout = 30 * time.Second

// annotationPrefix marks the service-account annotations that become alias
// metadata when use_annotations_as_alias_metadata is on, as in Vault.
const annotationPrefix = "vault.hashicorp.com/alias-metadata-"

// reviewResult is the service account a TokenReview authenticated.
type reviewResult struct {
	Namespace string
	Name      string
	UID       string
	Audiences []string
}

// tokenReview is the part of an authentication.k8s.io/v1 TokenReview
// answer that matters here.
type tokenReview struct {
	Status struct {
		Authenticated bool   `json:"authenticated"`
		Error         string `json:"error"`
		User          struct {
			Username string `json:"username"`
			UID      string `json:"uid"`
		} `json:"user"`
		Audiences []string `json:"audiences"`
	} `json:"status"`
}

// apiStatus is a metav1.Status, what the API server answers on errors.
type apiStatus struct {
	Message string `json:"message"`
}

// decodeReview turns the API server's answer to a TokenReview into the
// service account it authenticated. A refusal wraps ErrNotAuthenticated, a
// failed call ErrReview.
func decodeReview(status int, body []byte) (*reviewResult, error) {
	if status/100 != 2 {
		return nil, apiError(status, body)
	}
	var tr tokenReview
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, fmt.Errorf("%w: answer does not decode", ErrReview)
	}
	st := tr.Status
	if !st.Authenticated {
		return nil, fmt.Errorf("%w: %s", ErrNotAuthenticated, clip(st.Error))
	}
	ns, name, ok := serviceAccountUser(st.User.Username)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a service account", ErrNotAuthenticated, clip(st.User.Username))
	}
	if st.User.UID == "" {
		return nil, fmt.Errorf("%w: no uid", ErrNotAuthenticated)
	}
	return &reviewResult{Namespace: ns, Name: name, UID: st.User.UID, Audiences: st.Audiences}, nil
}

// serviceAccountUser splits "system:serviceaccount:<ns>:<name>".
func serviceAccountUser(username string) (ns, name string, ok bool) {
	rest, found := strings.CutPrefix(username, "system:serviceaccount:")
	if !found {
		return "", "", false
	}
	ns, name, found = strings.Cut(rest, ":")
	if !found || ns == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return ns, name, true
}

// apiError describes a non-2xx answer by its status and metav1.Status
// message.
func apiError(status int, body []byte) error {
	var st apiStatus
	_ = json.Unmarshal(body, &st)
	return fmt.Errorf("%w: status %d: %s", ErrReview, status, clip(st.Message))
}

// clip shortens a message from the API server for logs.
func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// kubeClient is one login's view of the API server.
type kubeClient struct {
	http   *http.Client
	base   *url.URL
	bearer string
	// ownToken is set when bearer is the login's own token (no reviewer
	// configured): it may review itself but is not used to read objects.
	ownToken bool
}

// kubeClient resolves the config's CA and reviewer token (falling back to
// the in-pod files unless disable_local_ca_jwt, then to the login's own
// token for the reviewer), and returns a client for the API server.
func (b *Backend) kubeClient(c *config, loginJWT string) (*kubeClient, error) {
	base, err := apiBaseURL(c.Host)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: kubernetes_host: %w", err)
	}
	ca, bearer := c.CACert, c.TokenReviewerJWT
	if !c.DisableLocalCAJWT {
		if ca == "" {
			ca = readLocal(b.opts.LocalCACertPath)
		}
		if bearer == "" {
			bearer = strings.TrimSpace(readLocal(b.opts.LocalJWTPath))
		}
	}
	own := bearer == ""
	if own {
		bearer = loginJWT
	}
	client, err := b.httpClient(ca)
	if err != nil {
		return nil, err
	}
	return &kubeClient{http: client, base: base, bearer: bearer, ownToken: own}, nil
}

// readLocal reads an in-pod file, "" when it is absent or unreadable.
func readLocal(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// httpClient returns the cached client for caPEM, building a new one when
// the CA changed. An empty caPEM trusts the system roots.
func (b *Backend) httpClient(caPEM string) (*http.Client, error) {
	b.clientMu.Lock()
	defer b.clientMu.Unlock()
	if b.client != nil && b.clientCA == caPEM {
		return b.client, nil
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if caPEM != "" {
		pool, err := certPool(caPEM)
		if err != nil {
			return nil, fmt.Errorf("kubernetes: CA certificate: %w", err)
		}
		tlsConf.RootCAs = pool
	}
	if b.client != nil {
		b.client.CloseIdleConnections()
	}
	b.client = &http.Client{
		Transport: &http.Transport{TLSClientConfig: tlsConf, Proxy: http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 8, IdleConnTimeout: 90 * time.Second},
		Timeout: apiTimeout,
	}
	b.clientCA = caPEM
	return b.client, nil
}

// do sends a request to the API server and returns the status and body.
func (k *kubeClient) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return 0, nil, fmt.Errorf("%w: encode: %v", ErrReview, err)
		}
		rd = bytes.NewReader(buf)
	}
	u := *k.base
	u.Path += path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %v", ErrReview, err)
	}
	req.Header.Set("Authorization", "Bearer "+k.bearer)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := k.http.Do(req)
	if err != nil {
		// url.Error quotes the URL only, never the headers.
		return 0, nil, fmt.Errorf("%w: %v", ErrReview, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: read answer: %v", ErrReview, err)
	}
	return resp.StatusCode, out, nil
}

// review asks the TokenReview API whether token is valid for audiences.
func (k *kubeClient) review(ctx context.Context, token string, audiences []string) (*reviewResult, error) {
	status, body, err := k.do(ctx, http.MethodPost, "/apis/authentication.k8s.io/v1/tokenreviews", map[string]any{
		"apiVersion": "authentication.k8s.io/v1",
		"kind":       "TokenReview",
		"spec":       map[string]any{"token": token, "audiences": audiences},
	})
	if err != nil {
		return nil, err
	}
	return decodeReview(status, body)
}

// errNoReviewer is returned when an object must be read from the API
// server but no reviewer token is configured.
var errNoReviewer = errors.New("kubernetes: reading namespaces or service accounts needs token_reviewer_jwt (or the in-pod token)")

// getObject GETs an API object with the reviewer token and decodes its
// metadata.
func (k *kubeClient) getObject(ctx context.Context, path string) (*objectMeta, error) {
	if k.ownToken {
		return nil, fmt.Errorf("%w: %w", ErrReview, errNoReviewer)
	}
	status, body, err := k.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	if status/100 != 2 {
		return nil, apiError(status, body)
	}
	var obj struct {
		Metadata objectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, fmt.Errorf("%w: object does not decode", ErrReview)
	}
	return &obj.Metadata, nil
}

// objectMeta is the part of metav1.ObjectMeta read here.
type objectMeta struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// namespaceLabels returns the labels of namespace ns.
func (k *kubeClient) namespaceLabels(ctx context.Context, ns string) (map[string]string, error) {
	meta, err := k.getObject(ctx, "/api/v1/namespaces/"+url.PathEscape(ns))
	if err != nil {
		return nil, err
	}
	return meta.Labels, nil
}

// errReservedAnnotation is returned when an alias-metadata annotation
// would overwrite one of the metadata keys the method sets itself.
var errReservedAnnotation = errors.New("kubernetes: service account annotation uses a reserved alias metadata key")

// annotations reads service account ns/name and returns its
// vault.hashicorp.com/alias-metadata-* annotations without the prefix.
func (k *kubeClient) annotations(ctx context.Context, ns, name string) (map[string]string, error) {
	meta, err := k.getObject(ctx, "/api/v1/namespaces/"+url.PathEscape(ns)+"/serviceaccounts/"+url.PathEscape(name))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for key, v := range meta.Annotations {
		if k, ok := strings.CutPrefix(key, annotationPrefix); ok && k != "" {
			if reservedMetadata[k] {
				return nil, fmt.Errorf("%w: %q", errReservedAnnotation, k)
			}
			out[k] = v
		}
	}
	return out, nil
}
