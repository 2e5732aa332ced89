package hatest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// outcome is what a client can tell about a request that ended.
type outcome int

const (
	// acked: the server answered with success.
	acked outcome = iota
	// refused: the request certainly had no effect (it never reached a
	// server, or the server rejected it with a 4xx).
	refused
	// unknown: it may or may not take effect (timeout, connection cut
	// after sending, 5xx).
	unknown
)

func (o outcome) String() string {
	return [...]string{"acked", "refused", "unknown"}[o]
}

// classify sorts a request's error into an outcome.
func classify(err error) outcome {
	if err == nil {
		return acked
	}
	var re *vaultapi.ResponseError
	if errors.As(err, &re) {
		if re.StatusCode >= 400 && re.StatusCode < 500 && re.StatusCode != http.StatusRequestTimeout {
			return refused
		}
		return unknown
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return refused // connection refused: nothing was sent
	}
	return unknown
}

// retryable reports whether a client may send the request again: the
// server is down or changing roles (dial errors, cut connections,
// timeouts, 5xx other than 501) or asks for a retry (412, 429).
func retryable(err error) bool {
	var re *vaultapi.ResponseError
	if errors.As(err, &re) {
		s := re.StatusCode
		return (s >= 500 && s != http.StatusNotImplemented) || s == http.StatusPreconditionFailed || s == http.StatusTooManyRequests
	}
	return err != nil
}

// rrClient spreads requests over every node in turn and retries a
// retryable failure on the next node until its budget is spent, as a
// client behind a load balancer would.
type rrClient struct {
	clients []*vaultapi.Client
	next    atomic.Uint64
	budget  time.Duration
	retries atomic.Int64
}

func newRRClient(c *cluster, budget time.Duration) *rrClient {
	r := &rrClient{budget: budget}
	for i := range c.size() {
		r.clients = append(r.clients, c.client(i))
	}
	return r
}

// do runs op on the next node, retrying as described above, and returns
// the last error (nil once an attempt succeeds).
func (r *rrClient) do(ctx context.Context, op func(context.Context, *vaultapi.Client) error) error {
	deadline := time.Now().Add(r.budget)
	for attempt := 0; ; attempt++ {
		c := r.clients[r.next.Add(1)%uint64(len(r.clients))]
		err := op(ctx, c)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("retry budget of %s spent after %d attempts: %w", r.budget, attempt+1, err)
		}
		r.retries.Add(1)
		time.Sleep(time.Duration(min(attempt, 10)) * 20 * time.Millisecond)
	}
}

// put writes {"v": value} at secret/<path>.
func put(ctx context.Context, c *vaultapi.Client, path, value string) error {
	_, err := c.KVv2("secret").Put(ctx, path, map[string]any{"v": value})
	return err
}

// get reads secret/<path>'s "v" ("" and no error when it does not exist).
func get(ctx context.Context, c *vaultapi.Client, path string) (string, error) {
	s, err := c.KVv2("secret").Get(ctx, path)
	if errors.Is(err, vaultapi.ErrSecretNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	v, _ := s.Data["v"].(string)
	return v, nil
}
