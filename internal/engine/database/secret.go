package database

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// Default password generator: 20 characters from [A-Za-z0-9-] with at least
// one lower-case letter, one upper-case letter, one digit and one "-", the
// shape of Vault's default password policy. Every character is drawn from
// crypto/rand.
const (
	passwordLength = 20
	lowerChars     = "abcdefghijklmnopqrstuvwxyz"
	upperChars     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digitChars     = "0123456789"
	passwordChars  = lowerChars + upperChars + digitChars + "-"
)

// defaultUsernameTemplate is Vault's PostgreSQL username template.
const defaultUsernameTemplate = `{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (random 20) (unix_time) | truncate 63 }}`

// validUsername is what generated usernames may contain: they are pasted
// into SQL inside double quotes.
var validUsername = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,63}$`)

func randomFrom(alphabet string, n int) (string, error) {
	out := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range out {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("database: random: %w", err)
		}
		out[i] = alphabet[k.Int64()]
	}
	return string(out), nil
}

// generatePassword returns a password from the default generator.
// newPassword generates a password for a database account of config c:
// from c's password_policy (sys/policies/password) when it names one,
// else from the default generator.
func (b *backend) newPassword(ctx context.Context, c *dbConfig) (string, error) {
	if c == nil || c.PasswordPolicy == "" {
		return generatePassword()
	}
	g, ok := b.system.(logical.PasswordGenerator)
	if !ok {
		return "", logical.InvalidRequest("password_policy %q cannot be used: this server has no password policies", c.PasswordPolicy)
	}
	pw, err := g.GeneratePassword(ctx, c.PasswordPolicy)
	if err != nil {
		return "", fmt.Errorf("database: password_policy %q: %w", c.PasswordPolicy, err)
	}
	return pw, nil
}

func generatePassword() (string, error) {
	for {
		p, err := randomFrom(passwordChars, passwordLength)
		if err != nil {
			return "", err
		}
		if strings.ContainsAny(p, lowerChars) && strings.ContainsAny(p, upperChars) &&
			strings.ContainsAny(p, digitChars) && strings.Contains(p, "-") {
			return p, nil
		}
	}
}

// usernameData is what a username template sees.
type usernameData struct {
	DisplayName string
	RoleName    string
}

// parseUsernameTemplate compiles a Vault-style username template.
func parseUsernameTemplate(text string, now func() time.Time) (*template.Template, error) {
	if text == "" {
		text = defaultUsernameTemplate
	}
	funcs := template.FuncMap{
		"truncate": func(n int, s string) string {
			if n >= 0 && len(s) > n {
				return s[:n]
			}
			return s
		},
		"random": func(n int) (string, error) {
			if n < 1 || n > 63 {
				return "", fmt.Errorf("random length %d out of range", n)
			}
			return randomFrom(lowerChars+upperChars+digitChars, n)
		},
		"unix_time":        func() string { return strconv.FormatInt(now().Unix(), 10) },
		"unix_time_millis": func() string { return strconv.FormatInt(now().UnixMilli(), 10) },
		"lowercase":        strings.ToLower,
		"uppercase":        strings.ToUpper,
		"replace":          func(old, repl, s string) string { return strings.ReplaceAll(s, old, repl) },
	}
	t, err := template.New("username").Funcs(funcs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("invalid username_template: %w", err)
	}
	return t, nil
}

// generateUsername renders the template; characters outside [A-Za-z0-9_.-]
// from display or role names become "-".
func generateUsername(text string, now func() time.Time, displayName, roleName string) (string, error) {
	t, err := parseUsernameTemplate(text, now)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	if err := t.Execute(&sb, usernameData{DisplayName: sanitize(displayName), RoleName: sanitize(roleName)}); err != nil {
		return "", fmt.Errorf("username_template: %w", err)
	}
	name := sb.String()
	if !validUsername.MatchString(name) {
		return "", fmt.Errorf("username_template produced an invalid username (want 1-63 characters of [A-Za-z0-9_.-])")
	}
	return name, nil
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (r == '_' || r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '-'
	}, s)
}
