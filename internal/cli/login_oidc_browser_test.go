package cli

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Chromium. Missing, the test fails under CI=true and
// is skipped elsewhere.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install chromium); CI=true forbids skipping")
	}
	t.Skip("chromium is not installed")
	return ""
}

// browser starts a headless Chromium with a fresh profile for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// The first action starts the browser, whose life is bound to the
	// context it runs with: start it here so per-step timeouts do not end it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// TestOIDCLoginBrowser runs `coffer login -method=oidc skip_browser=true`,
// opens the URL it prints in headless Chromium, signs in on the provider's
// form, and checks the CLI ends with a token carrying the role's policies.
func TestOIDCLoginBrowser(t *testing.T) {
	ctx := browser(t)
	s := newSSOSetup(t)
	r := s.startOIDCLogin(t)
	authURL := r.authURL(t)
	steps := []struct {
		name string
		act  chromedp.Action[chromedp.Void]
	}{
		{"navigate", chromedp.Navigate(authURL)},
		{"form", chromedp.WaitVisible(chromedp.ID("username"))},
		{"username", chromedp.SendKeys(chromedp.ID("username"), "alice")},
		{"password", chromedp.SendKeys(chromedp.ID("password"), "correct horse battery")},
		{"submit", chromedp.Click(chromedp.ID("submit"))},
		{"result", chromedp.WaitVisible(chromedp.ID("result"))},
	}
	for _, st := range steps {
		stepCtx, cancelStep := context.WithTimeout(ctx, 20*time.Second)
		err := chromedp.Do(stepCtx, st.act)
		cancelStep()
		if err != nil {
			loc, lerr := chromedp.Run(ctx, chromedp.Location())
			t.Fatalf("browser step %s: %v (at %q %v; cli stderr: %s)", st.name, err, loc, lerr, r.stderr)
		}
	}
	result, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("result")))
	if err != nil {
		t.Fatalf("browser: %v (cli stderr: %s)", err, r.stderr)
	}
	if !strings.Contains(result, "Signed in to Coffer") {
		t.Fatalf("callback page says %q", result)
	}
	r.finish(t, s)
	if s.p.Logins() != 1 {
		t.Fatalf("provider saw %d logins, want 1", s.p.Logins())
	}
}

// TestOIDCLoginBrowserWrongPassword: a wrong password keeps the browser on
// the provider's form with an error and never reaches the CLI.
func TestOIDCLoginBrowserWrongPassword(t *testing.T) {
	ctx := browser(t)
	s := newSSOSetup(t)
	r := s.startOIDCLogin(t)
	stepCtx, cancelSteps := context.WithTimeout(ctx, time.Minute)
	defer cancelSteps()
	err := chromedp.Do(stepCtx,
		chromedp.Navigate(r.authURL(t)),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "wrong"),
		chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.ID("error")),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("error")))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if !strings.Contains(msg, "invalid username or password") {
		t.Fatalf("error text %q", msg)
	}
	select {
	case code := <-r.done:
		t.Fatalf("login ended (exit %d) after a wrong password", code)
	default:
	}
}
