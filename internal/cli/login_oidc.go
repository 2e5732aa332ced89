package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// oidcLoginTimeout bounds the wait for the browser to come back.
const oidcLoginTimeout = 5 * time.Minute

// oidcOptions are the K=V settings of an oidc login, with Vault's names.
type oidcOptions struct {
	role           string
	listenAddress  string
	port           string
	callbackMethod string
	callbackHost   string
	callbackPort   string
	skipBrowser    bool
}

func parseOIDCOptions(kv map[string]any) (*oidcOptions, error) {
	o := &oidcOptions{role: str(kv["role"]), listenAddress: "127.0.0.1", port: "8250",
		callbackMethod: "http", callbackHost: "127.0.0.1"}
	set := func(dst *string, key string) {
		if v := str(kv[key]); v != "" {
			*dst = v
		}
	}
	set(&o.listenAddress, "listenaddress")
	set(&o.port, "port")
	set(&o.callbackMethod, "callbackmethod")
	set(&o.callbackHost, "callbackhost")
	set(&o.callbackPort, "callbackport")
	if v := str(kv["skip_browser"]); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("skip_browser: %w", err)
		}
		o.skipBrowser = b
	}
	if o.callbackMethod != "http" && o.callbackMethod != "https" {
		return nil, fmt.Errorf("callbackmethod must be http or https")
	}
	return o, nil
}

// callbackResult is what the local callback listener got back.
type callbackResult struct {
	secret *apiclient.Secret
	err    error
}

// oidcLogin runs the browser flow: it listens for the provider's redirect,
// asks the server for the provider's URL, opens it (or prints it), and
// trades the code that comes back for a token at auth/<mount>/oidc/callback.
func (a *app) oidcLogin(ctx context.Context, c *apiclient.Client, mount string, kv map[string]any) (*apiclient.Secret, error) {
	o, err := parseOIDCOptions(kv)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(o.listenAddress, o.port))
	if err != nil {
		return nil, fmt.Errorf("listen for the OIDC callback: %w", err)
	}
	defer func() { _ = ln.Close() }()
	if o.callbackPort == "" {
		o.callbackPort = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	redirect := fmt.Sprintf("%s://%s/oidc/callback", o.callbackMethod, net.JoinHostPort(o.callbackHost, o.callbackPort))
	nonce := randomNonce()
	s, err := c.Do(ctx, http.MethodPost, "auth/"+mount+"/oidc/auth_url",
		map[string]any{"role": o.role, "redirect_uri": redirect, "client_nonce": nonce}, nil)
	if err != nil {
		return nil, err
	}
	authURL := ""
	if s != nil {
		authURL = str(s.Data["auth_url"])
	}
	if authURL == "" {
		return nil, fmt.Errorf("no auth_url returned: check that the role allows the redirect URI %s", redirect)
	}
	a.presentAuthURL(authURL, o.skipBrowser)
	results := make(chan callbackResult, 1)
	srv := &http.Server{Handler: a.oidcCallbackHandler(ctx, c, mount, nonce, results), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		// Shutdown lets the handler finish writing the browser's page.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	timer := time.NewTimer(oidcLoginTimeout)
	defer timer.Stop()
	select {
	case r := <-results:
		return r.secret, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		return nil, errors.New("timed out waiting for the OIDC callback")
	}
}

// presentAuthURL prints the URL on stderr and, unless skip, opens it in a
// browser.
func (a *app) presentAuthURL(authURL string, skip bool) {
	if skip {
		fmt.Fprintf(a.stderr, "Complete the login via your OIDC provider. Open this URL in a browser:\n\n    %s\n\n", authURL)
	} else {
		fmt.Fprintf(a.stderr, "Complete the login via your OIDC provider. Launching browser to:\n\n    %s\n\n", authURL)
		if err := openBrowser(authURL, a.getenv); err != nil {
			fmt.Fprintf(a.stderr, "Error attempting to automatically open browser: %v\nPlease visit the URL above.\n\n", err)
		}
	}
	fmt.Fprintln(a.stderr, "Waiting for OIDC authentication to complete...")
}

// oidcCallbackHandler serves /oidc/callback: it forwards the provider's
// answer to the server and hands the first result to results.
func (a *app) oidcCallbackHandler(ctx context.Context, c *apiclient.Client, mount, nonce string, results chan<- callbackResult) http.Handler {
	var once sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("/oidc/callback", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var res callbackResult
		if e := r.Form.Get("error"); e != "" {
			res.err = fmt.Errorf("the OIDC provider returned an error: %s %s", e, r.Form.Get("error_description"))
		} else {
			q := url.Values{"state": {r.Form.Get("state")}, "code": {r.Form.Get("code")},
				"id_token": {r.Form.Get("id_token")}, "client_nonce": {nonce}}
			res.secret, res.err = c.Do(ctx, http.MethodGet, "auth/"+mount+"/oidc/callback", nil, q)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if res.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<!DOCTYPE html><title>Coffer</title><h1 id=\"result\">Login failed</h1><p>%s</p>", html.EscapeString(res.err.Error()))
		} else {
			fmt.Fprint(w, "<!DOCTYPE html><title>Coffer</title><h1 id=\"result\">Signed in to Coffer</h1><p>You can close this window and return to the terminal.</p>")
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		once.Do(func() { results <- res })
	})
	return mux
}

// openBrowser starts $BROWSER, or the platform's URL opener, on u.
func openBrowser(u string, getenv func(string) string) error {
	var argv []string
	if b := strings.Fields(getenv("BROWSER")); len(b) > 0 {
		argv = b
	} else {
		switch runtime.GOOS {
		case "darwin":
			argv = []string{"open"}
		case "windows":
			argv = []string{"rundll32", "url.dll,FileProtocolHandler"}
		default:
			argv = []string{"xdg-open"}
		}
	}
	cmd := exec.Command(argv[0], append(argv[1:], u)...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", argv[0], err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// randomNonce returns a random client_nonce.
func randomNonce() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
