package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/netbatch"
	"github.com/cofferdev/coffer/internal/tlsprofile"
)

// listener is one API listener, with its optional redirect listener.
type listener struct {
	addr     string
	srv      *http.Server
	redirect *http.Server
	certs    *certReloader
}

// certReloader serves the current certificate and swaps it on reload, so a
// renewed certificate takes effect without dropping the listener.
type certReloader struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) reload() error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS key pair %s / %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert.Store(&c)
	return nil
}

func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cert.Load(), nil
}

// tlsConfig builds the server TLS configuration of a listener.
//
// Without tls_client_ca_file the listener requests a client certificate but
// neither requires nor verifies it, as Vault's listeners do: the cert auth
// method verifies it against its own trusted certificates. The TLS stack
// still checks the client's proof of possession of the certificate's key.
// With tls_client_ca_file a presented certificate must chain to that CA, and
// tls_require_and_verify_client_cert makes one mandatory.
func tlsConfig(lc config.Listener, certs *certReloader) (*tls.Config, error) {
	tc := tlsprofile.Server(lc.TLSMinVersion, certs.get)
	tc.ClientAuth = tls.RequestClientCert
	if lc.TLSClientCAFile != "" {
		pem, err := os.ReadFile(lc.TLSClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("read tls_client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_client_ca_file %s holds no PEM certificate", lc.TLSClientCAFile)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	}
	if lc.TLSRequireAndVerifyClientCert {
		if tc.ClientCAs == nil {
			return nil, errors.New("tls_require_and_verify_client_cert needs tls_client_ca_file")
		}
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

func startListener(lc config.Listener, apiAddr string, h http.Handler, logger *slog.Logger, errc chan<- error) (*listener, error) {
	ln, err := net.Listen("tcp", lc.Address)
	if err != nil {
		return nil, fmt.Errorf("server: listen on %s: %w", lc.Address, err)
	}
	l := &listener{addr: ln.Addr().String()}
	l.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
	if lc.TLSDisable {
		logger.Warn("server: TLS is disabled on this listener; traffic, tokens and secrets cross the network in the clear", "listener", l.addr)
	} else {
		if l.certs, err = newCertReloader(lc.TLSCertFile, lc.TLSKeyFile); err != nil {
			ln.Close()
			return nil, fmt.Errorf("server: listener %s: %w", lc.Address, err)
		}
		tc, err := tlsConfig(lc, l.certs)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("server: listener %s: %w", lc.Address, err)
		}
		l.srv.TLSConfig = tc
		// HTTP/2 connections batch their writes (see internal/netbatch).
		l.srv.ConnState = netbatch.ConnState
		ln = tls.NewListener(netbatch.Listener{Listener: ln}, tc)
	}
	go serve(l.srv, ln, errc)
	if lc.RedirectAddress != "" {
		if err := l.startRedirect(lc, apiAddr, logger, errc); err != nil {
			l.shutdown(context.Background())
			return nil, err
		}
	}
	logger.Info("server: listening", "address", l.addr, "tls", !lc.TLSDisable)
	return l, nil
}

func serve(srv *http.Server, ln net.Listener, errc chan<- error) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		errc <- fmt.Errorf("server: listener %s: %w", ln.Addr(), err)
	}
}

// startRedirect serves plain HTTP that only redirects (308) to https.
func (l *listener) startRedirect(lc config.Listener, apiAddr string, logger *slog.Logger, errc chan<- error) error {
	target := "https://" + l.addr
	if apiAddr != "" {
		u, err := url.Parse(apiAddr)
		if err != nil || u.Host == "" {
			return fmt.Errorf("server: api_addr %q is not a URL", apiAddr)
		}
		target = "https://" + u.Host
	}
	ln, err := net.Listen("tcp", lc.RedirectAddress)
	if err != nil {
		return fmt.Errorf("server: listen on redirect_address %s: %w", lc.RedirectAddress, err)
	}
	l.redirect = &http.Server{ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target+r.URL.RequestURI(), http.StatusPermanentRedirect)
		})}
	go serve(l.redirect, ln, errc)
	logger.Info("server: redirecting plain HTTP to https", "address", ln.Addr().String(), "target", target)
	return nil
}

func (l *listener) shutdown(ctx context.Context) {
	_ = l.srv.Shutdown(ctx)
	if l.redirect != nil {
		_ = l.redirect.Shutdown(ctx)
	}
}
