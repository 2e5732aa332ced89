package gitops

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/apiclient"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

// serverKeyring is a keyring talking to the in-process server with token.
func serverKeyring(t *testing.T, in *servertest.Instance, token string) *Keyring {
	t.Helper()
	c, err := apiclient.New(apiclient.Config{Address: in.URL(), Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return &Keyring{Transit: ServerTransit{Client: c}}
}

// startTransit starts a server with transit keys prod-eu and nonprod and
// returns tokens for the policies prod-reader (decrypt prod-eu) and
// nonprod-reader (decrypt nonprod, encrypt prod-eu).
func startTransit(t *testing.T) (*servertest.Instance, map[string]string) {
	t.Helper()
	in := servertest.Start(t, servertest.Options{})
	if err := in.Client.Sys().Mount("transit", &vaultapi.MountInput{Type: "transit"}); err != nil {
		t.Fatalf("mount transit: %v", err)
	}
	for _, k := range []string{"prod-eu", "nonprod"} {
		if _, err := in.Client.Logical().Write("transit/keys/"+k, nil); err != nil {
			t.Fatal(err)
		}
	}
	policies := map[string]string{
		"prod-reader":    `path "transit/decrypt/prod-eu" { capabilities = ["update"] }`,
		"nonprod-reader": `path "transit/decrypt/nonprod" { capabilities = ["update"] }` + "\n" + `path "transit/encrypt/prod-eu" { capabilities = ["update"] }`,
	}
	tokens := map[string]string{}
	for name, body := range policies {
		if err := in.Client.Sys().PutPolicy(name, body); err != nil {
			t.Fatal(err)
		}
		s, err := in.Client.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		tokens[name] = s.Auth.ClientToken
	}
	return in, tokens
}

// TestServerRecipients seals files for transit keys held by a real
// in-process server and opens them under policies: a token without update
// on transit/decrypt/prod-eu cannot open prod files, and an offline age
// recipient (disaster recovery) opens them without the server.
func TestServerRecipients(t *testing.T) {
	ctx := context.Background()
	in, tokens := startTransit(t)
	prod, err := ParseRecipient("coffer://transit/keys/prod-eu")
	if err != nil {
		t.Fatal(err)
	}
	dr, drRecipient := testKeys(t)
	plain := []byte("db:\n  password: prod-secret-4711\n")
	sealed, err := serverKeyring(t, in, tokens["nonprod-reader"]).Seal(ctx, YAML, plain, []Recipient{prod, drRecipient}, nil)
	if err != nil {
		t.Fatalf("seal for the server: %v", err)
	}
	if !bytes.Contains(sealed, []byte("#coffer:recipient coffer://transit/keys/prod-eu vault:v1:")) {
		t.Fatalf("no transit stanza:\n%s", sealed)
	}
	tests := []struct {
		name string
		kr   *Keyring
		ok   bool
	}{
		{"prod token", serverKeyring(t, in, tokens["prod-reader"]), true},
		{"root token", serverKeyring(t, in, in.RootToken), true},
		{"nonprod token", serverKeyring(t, in, tokens["nonprod-reader"]), false},
		{"offline disaster-recovery key", dr, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := openBytes(t, tt.kr, YAML, sealed)
			if tt.ok {
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("open: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrNoIdentity) || !strings.Contains(err.Error(), "403") {
				t.Fatalf("err = %v, want ErrNoIdentity with the server's 403", err)
			}
		})
	}
	t.Run("offline identity first", func(t *testing.T) {
		ct := &countingTransit{Transit: serverKeyring(t, in, in.RootToken).Transit}
		kr := &Keyring{Identities: dr.Identities, Transit: ct}
		if _, err := openBytes(t, kr, YAML, sealed); err != nil || ct.decrypts != 0 {
			t.Fatalf("open: %v, %d server decrypts", err, ct.decrypts)
		}
	})
	in.CheckNoLeaks(t, "prod-secret-4711")
}

// countingTransit counts the Decrypt calls it passes on.
type countingTransit struct {
	Transit
	decrypts int
}

func (c *countingTransit) Decrypt(ctx context.Context, mount, key, ciphertext string) ([]byte, error) {
	c.decrypts++
	return c.Transit.Decrypt(ctx, mount, key, ciphertext)
}
