package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/cofferdev/coffer/internal/apiclient"
	"github.com/cofferdev/coffer/internal/tlsprofile"
)

// Ceiling is a bare net/http server that answers every request with the
// same bytes, over the TLS settings of Coffer's listeners: the most any
// server could serve through this HTTP/TLS stack on this machine.
type Ceiling struct {
	srv  *http.Server
	base string
	tls  *tls.Config // client settings trusting the ceiling's certificate
}

// StartCeiling serves body as application/json on a free loopback port,
// over TLS with a fresh self-signed ECDSA P-256 certificate when useTLS.
func StartCeiling(body []byte, useTLS bool) (*Ceiling, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ceiling: listen: %w", err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hd := w.Header()
		hd["Content-Type"] = []string{"application/json"}
		hd["Cache-Control"] = []string{"no-store"}
		_, _ = w.Write(body)
	})
	// The same timeouts as the server's listeners.
	c := &Ceiling{
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute, ErrorLog: log.New(io.Discard, "", 0)},
		base: "http://" + ln.Addr().String(),
	}
	if useTLS {
		cert, pool, err := selfSigned()
		if err != nil {
			ln.Close()
			return nil, err
		}
		tc := tlsprofile.Server("", func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert, nil })
		c.srv.TLSConfig = tc
		ln = tls.NewListener(ln, tc)
		c.base = "https://" + ln.Addr().String()
		c.tls = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

// Target returns a client of the ceiling built like NewTarget's.
func (c *Ceiling) Target(maxConns int) *Target {
	return newTarget(c.base, "", c.tls, maxConns)
}

// Close stops the server.
func (c *Ceiling) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.srv.Shutdown(ctx)
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned() (*tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("ceiling: key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "coffer bench ceiling"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("ceiling: certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("ceiling: certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// fixedGet is the ceiling's workload: GET of one path, answered with the
// same bytes whatever the path.
type fixedGet struct{ path string }

func (w fixedGet) Name() string                                     { return "ceiling" }
func (w fixedGet) Setup(context.Context, *apiclient.Client) error   { return nil }
func (w fixedGet) Cleanup(context.Context, *apiclient.Client) error { return nil }
func (w fixedGet) Next(*mrand.Rand, uint64) Op                      { return Op{Method: http.MethodGet, Path: w.path} }

// StartCeilingFor sets up kv-read on the server behind api and t, takes the
// exact bytes of one KV v2 read response, removes the secret again and
// serves those bytes from a Ceiling over the same scheme (TLS or not) as t.
// It returns the ceiling and the workload that reads it.
func StartCeilingFor(ctx context.Context, api *apiclient.Client, t *Target, p Params) (*Ceiling, Workload, error) {
	p.Keys = 1
	kv := newKV("kv-read", p, 1)
	if err := kv.Setup(ctx, api); err != nil {
		return nil, nil, errors.Join(fmt.Errorf("ceiling: %w", err), kv.Cleanup(context.WithoutCancel(ctx), api))
	}
	op := kv.Next(nil, 0)
	body, err := t.Fetch(ctx, op)
	if cerr := kv.Cleanup(context.WithoutCancel(ctx), api); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, fmt.Errorf("ceiling: %w", err)
	}
	c, err := StartCeiling(body, t.TLS())
	if err != nil {
		return nil, nil, err
	}
	return c, fixedGet{path: op.Path}, nil
}

// RunWithCeiling sets every workload up, then at each concurrency measures
// the ceiling and right after it each workload, so that whatever else
// loads the machine weighs on both sides of a ratio alike; it cleans up at
// the end. Results come ceiling first at each concurrency, with
// CeilingRatio set on the workloads'. A workload whose setup fails is left
// out and its error joined to the returned one.
func RunWithCeiling(ctx context.Context, api *apiclient.Client, t *Target, ws []Workload, p Params, opts Options) ([]Result, error) {
	c, ceil, err := StartCeilingFor(ctx, api, t, p)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ct := c.Target(maxOf(opts.Concurrency))
	defer ct.Close()
	var ready []Workload
	var errs []error
	for _, w := range ws {
		if err := w.Setup(ctx, api); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", w.Name(), err))
		} else {
			ready = append(ready, w)
		}
	}
	out, err := interleave(ctx, ct, ceil, t, ready, opts)
	errs = append(errs, err)
	for _, w := range ws {
		if cerr := w.Cleanup(context.WithoutCancel(ctx), api); cerr != nil {
			errs = append(errs, fmt.Errorf("%s: cleanup: %w", w.Name(), cerr))
		}
	}
	return out, errors.Join(errs...)
}

// interleave measures, at each concurrency and opts.Repeat times over, the
// ceiling and right after it each workload. Each workload's reported run
// is the one with the median ceiling ratio, the ceiling's the one with the
// median throughput.
func interleave(ctx context.Context, ct *Target, ceil Workload, t *Target, ws []Workload, opts Options) ([]Result, error) {
	var out []Result
	for _, n := range opts.Concurrency {
		o := opts
		o.Concurrency, o.Repeat = []int{n}, 1
		runs := make([][]Result, len(ws)+1) // ceiling, then each workload
		for range max(opts.Repeat, 1) {
			cr, err := Sweep(ctx, ct, ceil, o)
			if err != nil {
				return out, err
			}
			runs[0] = append(runs[0], cr...)
			for i, w := range ws {
				wr, err := Sweep(ctx, t, w, o)
				if err != nil {
					return out, err
				}
				ApplyCeiling(wr, cr)
				runs[i+1] = append(runs[i+1], wr...)
			}
		}
		out = append(out, median(runs[0], func(r Result) float64 { return r.RequestsPerSecond }))
		for _, rs := range runs[1:] {
			out = append(out, median(rs, func(r Result) float64 { return r.CeilingRatio }))
		}
	}
	return out, nil
}

// ApplyCeiling sets each result's CeilingRatio from the ceiling measured at
// the same concurrency.
func ApplyCeiling(results, ceiling []Result) {
	byConc := make(map[int]float64, len(ceiling))
	for _, c := range ceiling {
		byConc[c.Concurrency] = c.RequestsPerSecond
	}
	for i := range results {
		if rps := byConc[results[i].Concurrency]; rps > 0 {
			results[i].CeilingRatio = results[i].RequestsPerSecond / rps
		}
	}
}

func maxOf(xs []int) int {
	m := 1
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
