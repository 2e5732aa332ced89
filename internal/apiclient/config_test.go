package apiclient

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigFromEnv(t *testing.T) {
	home := t.TempDir()
	if err := WriteTokenFile(filepath.Join(home, TokenFileName), "hvs.fromfile\n"); err != nil {
		t.Fatal(err)
	}
	emptyHome := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{
			name: "defaults",
			env:  map[string]string{"HOME": emptyHome},
			want: Config{Address: DefaultAddress},
		},
		{
			name: "coffer variables win over vault ones",
			env: map[string]string{
				"HOME":        home,
				"COFFER_ADDR": "http://c:1", "VAULT_ADDR": "http://v:1",
				"COFFER_TOKEN": "hvs.c", "VAULT_TOKEN": "hvs.v",
				"COFFER_CACERT": "/c.pem", "VAULT_CACERT": "/v.pem",
				"COFFER_SKIP_VERIFY": "false", "VAULT_SKIP_VERIFY": "true",
				"COFFER_CLIENT_TIMEOUT": "5s", "VAULT_CLIENT_TIMEOUT": "9s",
			},
			want: Config{Address: "http://c:1", Token: "hvs.c", CACert: "/c.pem", Timeout: 5 * time.Second},
		},
		{
			name: "vault variables are the fallback",
			env: map[string]string{
				"HOME":       home,
				"VAULT_ADDR": "http://v:1", "VAULT_TOKEN": "hvs.v", "VAULT_CACERT": "/v.pem",
				"VAULT_SKIP_VERIFY": "1", "VAULT_CLIENT_TIMEOUT": "7",
				"VAULT_CLIENT_CERT": "/cc.pem", "VAULT_CLIENT_KEY": "/ck.pem", "VAULT_NAMESPACE": "ns1",
			},
			want: Config{Address: "http://v:1", Token: "hvs.v", CACert: "/v.pem", TLSSkipVerify: true,
				Timeout: 7 * time.Second, ClientCert: "/cc.pem", ClientKey: "/ck.pem", Namespace: "ns1"},
		},
		{
			name: "token file when no token variable",
			env:  map[string]string{"HOME": home},
			want: Config{Address: DefaultAddress, Token: "hvs.fromfile"},
		},
		{
			name: "unparsable skip-verify keeps verification on",
			env:  map[string]string{"HOME": emptyHome, "COFFER_SKIP_VERIFY": "yes please"},
			want: Config{Address: DefaultAddress},
		},
		{
			name: "unparsable timeout means default",
			env:  map[string]string{"HOME": emptyHome, "COFFER_CLIENT_TIMEOUT": "soon"},
			want: Config{Address: DefaultAddress},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ConfigFromEnv(envFunc(tt.env))
			if got != tt.want {
				t.Errorf("ConfigFromEnv = %#v\nwant           %#v\n(tokens %q vs %q)", got, tt.want, got.Token, tt.want.Token)
			}
		})
	}
}

func TestWriteTokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), TokenFileName)
	for _, tok := range []string{"hvs.first", "hvs.second"} {
		if err := WriteTokenFile(path, tok); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("mode = %o, want 600", perm)
		}
		got, err := ReadTokenFile(path)
		if err != nil || got != tok {
			t.Errorf("ReadTokenFile = %q, %v; want %q", got, err, tok)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only the token file", len(entries))
	}
}

func TestSecretTypesRedact(t *testing.T) {
	cfg := Config{Address: "http://x", Token: testToken}
	secret := &Secret{Data: map[string]any{"password": testToken},
		Auth: &SecretAuth{ClientToken: testToken}, WrapInfo: &SecretWrapInfo{Token: testToken}}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logBuf, nil))
	logger.Info("x", "cfg", cfg, "secret", secret, "auth", secret.Auth, "wrap", secret.WrapInfo, "client", c)
	tests := []struct {
		name string
		out  string
	}{
		{"config %v", fmt.Sprintf("%v", cfg)},
		{"config %+v", fmt.Sprintf("%+v", cfg)},
		{"config %#v", fmt.Sprintf("%#v", cfg)},
		{"secret %v", fmt.Sprintf("%v", secret)},
		{"secret %#v", fmt.Sprintf("%#v", secret)},
		{"auth %+v", fmt.Sprintf("%+v", secret.Auth)},
		{"wrap %v", fmt.Sprintf("%v", secret.WrapInfo)},
		{"client %v", fmt.Sprintf("%v", c)},
		{"slog", logBuf.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(tt.out, testToken) {
				t.Errorf("output reveals the token: %s", tt.out)
			}
		})
	}
}
