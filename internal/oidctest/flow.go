package oidctest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// authCode is an issued authorization code waiting for its exchange.
type authCode struct {
	user        string
	redirectURI string
	nonce       string
	challenge   string
	issued      time.Time
}

// loginForm is the provider's login page. The inputs have ids "username"
// and "password", the button "submit", and an error shows in "error".
var loginForm = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html><head><title>oidctest login</title></head>
<body>
<h1>Sign in</h1>
{{if .Error}}<p id="error">{{.Error}}</p>{{end}}
<form id="login" method="POST" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<label>Username <input id="username" name="username" type="text" autocomplete="off"></label>
<label>Password <input id="password" name="password" type="password"></label>
<button id="submit" type="submit">Sign in</button>
</form>
</body></html>
`))

// authParams are the authorization request parameters the form carries.
var authParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "max_age", "response_mode"}

// checkAuthRequest validates an authorization request's parameters and
// returns a message for the user, or "".
func (p *Provider) checkAuthRequest(v url.Values) string {
	switch {
	case v.Get("response_type") != "code":
		return "unsupported response_type"
	case v.Get("client_id") != p.opts.ClientID:
		return "unknown client_id"
	case v.Get("redirect_uri") == "":
		return "missing redirect_uri"
	case len(p.opts.RedirectURIs) > 0 && !slices.Contains(p.opts.RedirectURIs, v.Get("redirect_uri")):
		return "redirect_uri not registered"
	case !slices.Contains(strings.Fields(v.Get("scope")), "openid"):
		return "scope must include openid"
	case v.Get("code_challenge") == "" || v.Get("code_challenge_method") != "S256":
		return "PKCE with S256 is required"
	}
	return ""
}

func (p *Provider) renderForm(w http.ResponseWriter, status int, v url.Values, msg string) {
	hidden := map[string]string{}
	for _, k := range authParams {
		if s := v.Get(k); s != "" {
			hidden[k] = s
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = loginForm.Execute(w, map[string]any{"Action": PathAuthorize, "Hidden": hidden, "Error": msg})
}

func (p *Provider) serveAuthorizeForm(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	if msg := p.checkAuthRequest(v); msg != "" {
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	p.renderForm(w, http.StatusOK, v, "")
}

func (p *Provider) serveAuthorizeSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	v := r.PostForm
	if msg := p.checkAuthRequest(v); msg != "" {
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	name := v.Get("username")
	p.mu.Lock()
	u, ok := p.users[name]
	p.mu.Unlock()
	if !ok || subtle.ConstantTimeCompare([]byte(u.Password), []byte(v.Get("password"))) != 1 {
		p.renderForm(w, http.StatusOK, v, "invalid username or password")
		return
	}
	code := randomString(24)
	p.mu.Lock()
	p.logins++
	p.codes[code] = &authCode{user: name, redirectURI: v.Get("redirect_uri"), nonce: v.Get("nonce"),
		challenge: v.Get("code_challenge"), issued: p.opts.Now()}
	p.mu.Unlock()
	target, err := url.Parse(v.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	q := target.Query()
	q.Set("code", code)
	q.Set("state", v.Get("state"))
	target.RawQuery = q.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// clientAuthOK checks the client credentials of a token request, sent
// either as HTTP Basic or as form fields.
func (p *Provider) clientAuthOK(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(p.opts.ClientID))
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(p.opts.ClientSecret))
	return idOK&secretOK == 1
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// takeCode removes and returns an unexpired code.
func (p *Provider) takeCode(code string) *authCode {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.codes[code]
	delete(p.codes, code)
	if c == nil || p.opts.Now().Sub(c.issued) > codeTTL {
		return nil
	}
	return c
}

func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	if !p.clientAuthOK(r) {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "only authorization_code")
		return
	}
	c := p.takeCode(r.PostForm.Get("code"))
	if c == nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown or expired code")
		return
	}
	if r.PostForm.Get("redirect_uri") != c.redirectURI {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri mismatch")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(c.challenge)) != 1 {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
		return
	}
	p.issueTokens(w, c)
}

func (p *Provider) issueTokens(w http.ResponseWriter, c *authCode) {
	p.mu.Lock()
	u := p.users[c.user]
	p.mu.Unlock()
	extra := map[string]any{"auth_time": c.issued.Unix()}
	if c.nonce != "" {
		extra["nonce"] = c.nonce
	}
	maps.Copy(extra, u.Claims)
	sub, _ := u.Claims["sub"].(string)
	if sub == "" {
		sub = c.user
	}
	idToken, err := p.Mint(p.Claims(sub, []string{p.opts.ClientID}, extra))
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", "signing failed")
		return
	}
	access := randomString(24)
	p.mu.Lock()
	p.access[access] = c.user
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"expires_in":   int(p.opts.TokenTTL.Seconds()),
		"id_token":     idToken,
	})
}

func (p *Provider) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	name, found := p.access[tok]
	u := p.users[name]
	p.mu.Unlock()
	if !ok || !found {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		tokenError(w, http.StatusUnauthorized, "invalid_token", "unknown access token")
		return
	}
	out := map[string]any{"sub": name}
	maps.Copy(out, u.Claims)
	writeJSON(w, http.StatusOK, out)
}
