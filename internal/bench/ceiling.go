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
	tls  *tls.Config       // client settings trusting the ceiling's certificate
	cert *x509.Certificate // the ceiling's certificate, with TLS
	body []byte
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
		body: body,
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
		c.cert = cert.Leaf
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
type fixedGet struct{ path, name string }

func (w fixedGet) Name() string                                     { return w.name }
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
	return c, fixedGet{path: op.Path, name: "ceiling"}, nil
}

// RunWithCeiling sets every workload up, then at each concurrency measures
// the ceiling (and the process ceiling, with opts.CeilingProcess) and right
// after it each workload, so that whatever else loads the machine weighs on
// both sides of a ratio alike; it cleans up at the end. Results come
// ceilings first at each concurrency, with CeilingRatio (and
// ProcessCeilingRatio) set on the workloads'. A workload whose setup fails
// is left out and its error joined to the returned one.
func RunWithCeiling(ctx context.Context, api *apiclient.Client, t *Target, ws []Workload, p Params, opts Options) ([]Result, error) {
	c, ceil, err := StartCeilingFor(ctx, api, t, p)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ceilings := []ceilingRun{{c.Target(maxOf(opts.Concurrency)), ceil}}
	defer ceilings[0].target.Close()
	if opts.CeilingProcess != nil {
		pc, err := StartProcessCeiling(opts.CeilingProcess, c.body, t.TLS())
		if err != nil {
			return nil, err
		}
		defer pc.Close()
		pt := pc.Target(maxOf(opts.Concurrency))
		defer pt.Close()
		ceilings = append(ceilings, ceilingRun{pt, fixedGet{path: ceil.(fixedGet).path, name: "ceiling-process"}})
	}
	var ready []Workload
	var errs []error
	for _, w := range ws {
		if err := w.Setup(ctx, api); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", w.Name(), err))
		} else {
			ready = append(ready, w)
		}
	}
	out, err := interleave(ctx, ceilings, t, ready, opts)
	errs = append(errs, err)
	for _, w := range ws {
		if cerr := w.Cleanup(context.WithoutCancel(ctx), api); cerr != nil {
			errs = append(errs, fmt.Errorf("%s: cleanup: %w", w.Name(), cerr))
		}
	}
	return out, errors.Join(errs...)
}

// ceilingRun is a ceiling to measure: its client and workload.
type ceilingRun struct {
	target *Target
	w      Workload
}

// interleave measures, at each concurrency and opts.Repeat times over, the
// ceilings and right after them each workload. Each workload's reported run
// is the one with the median ceiling ratio, each ceiling's the one with the
// median throughput.
func interleave(ctx context.Context, ceilings []ceilingRun, t *Target, ws []Workload, opts Options) ([]Result, error) {
	var out []Result
	nc := len(ceilings)
	for _, n := range opts.Concurrency {
		o := opts
		o.Concurrency, o.Repeat = []int{n}, 1
		runs := make([][]Result, nc+len(ws)) // the ceilings, then each workload
		for range max(opts.Repeat, 1) {
			crs := make([][]Result, nc)
			for i, c := range ceilings {
				cr, err := Sweep(ctx, c.target, c.w, o)
				if err != nil {
					return out, err
				}
				crs[i] = cr
				runs[i] = append(runs[i], cr...)
			}
			for i, w := range ws {
				wr, err := Sweep(ctx, t, w, o)
				if err != nil {
					return out, err
				}
				ApplyCeiling(wr, crs[0])
				if nc > 1 {
					applyRatio(wr, crs[1], func(r *Result, x float64) { r.ProcessCeilingRatio = x })
				}
				runs[nc+i] = append(runs[nc+i], wr...)
			}
		}
		for _, rs := range runs[:nc] {
			out = append(out, median(rs, func(r Result) float64 { return r.RequestsPerSecond }))
		}
		for _, rs := range runs[nc:] {
			out = append(out, median(rs, func(r Result) float64 { return r.CeilingRatio }))
		}
	}
	return out, nil
}

// ApplyCeiling sets each result's CeilingRatio from the ceiling measured at
// the same concurrency.
func ApplyCeiling(results, ceiling []Result) {
	applyRatio(results, ceiling, func(r *Result, x float64) { r.CeilingRatio = x })
}

// applyRatio calls set with each result's throughput over the ceiling's at
// the same concurrency, where the ceiling was measured.
func applyRatio(results, ceiling []Result, set func(*Result, float64)) {
	byConc := make(map[int]float64, len(ceiling))
	for _, c := range ceiling {
		byConc[c.Concurrency] = c.RequestsPerSecond
	}
	for i := range results {
		if rps := byConc[results[i].Concurrency]; rps > 0 {
			set(&results[i], results[i].RequestsPerSecond/rps)
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
