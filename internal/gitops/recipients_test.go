package gitops

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"
)

// sshKey returns an OpenSSH private key PEM and its authorized_keys line.
func sshKey(t *testing.T, kind string) ([]byte, string) {
	t.Helper()
	var priv crypto.Signer
	switch kind {
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv = k
	case "rsa":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		priv = k
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + " user@host"
}

func TestRecipientKinds(t *testing.T) {
	plain := []byte("db:\n  password: hunter2\n")
	for _, kind := range []string{"age", "ed25519", "rsa"} {
		t.Run(kind, func(t *testing.T) {
			var ids []age.Identity
			var line string
			if kind == "age" {
				id, _ := age.GenerateX25519Identity()
				ids, line = []age.Identity{id}, id.Recipient().String()
			} else {
				pemKey, pub := sshKey(t, kind)
				var err error
				ids, err = ParseIdentities(pemKey, kind, nil)
				if err != nil {
					t.Fatal(err)
				}
				line = pub
			}
			r, err := ParseRecipient(line)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(r.String(), "user@host") {
				t.Fatalf("comment kept in %q", r)
			}
			other, otherR := testKeys(t)
			sealed := sealBytes(t, &Keyring{}, YAML, plain, r, otherR)
			for name, kr := range map[string]*Keyring{"own": {Identities: ids}, "other": other} {
				got, err := openBytes(t, kr, YAML, sealed)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("%s identity: %q, %v", name, got, err)
				}
			}
			stranger, _ := testKeys(t)
			if _, err := openBytes(t, stranger, YAML, sealed); !errors.Is(err, ErrNoIdentity) {
				t.Fatalf("stranger: err = %v, want ErrNoIdentity", err)
			}
		})
	}
}

func TestParseRecipientErrors(t *testing.T) {
	for _, s := range []string{"", "age1bogus", "ssh-ed25519 notbase64", "coffer://transit/keys/", "coffer://keys/x", "coffer://transit/keys/a/b", "gpg:1234"} {
		t.Run(s, func(t *testing.T) {
			if _, err := ParseRecipient(s); err == nil {
				t.Fatalf("ParseRecipient(%q) accepted", s)
			}
		})
	}
	r, err := ParseRecipient("coffer://transit/keys/prod-eu")
	if err != nil || !r.IsServer() || r.mount != "transit" || r.key != "prod-eu" {
		t.Fatalf("transit recipient: %+v %v", r, err)
	}
}

func TestTamper(t *testing.T) {
	kr, r := testKeys(t)
	plain := []byte("db:\n  user: app\n  password: hunter2\napi:\n  token: abc\n")
	sealed := string(sealBytes(t, kr, YAML, plain, r))
	lines := strings.Split(sealed, "\n")
	value := func(i int) string { return strings.TrimSpace(strings.SplitN(lines[i], ":", 2)[1]) }
	swapped := append([]string(nil), lines...)
	swapped[1] = "  user: " + value(2)
	swapped[2] = "  password: " + value(1)
	tok := value(4)
	truncated := append([]string(nil), lines...)
	truncated[4] = "  token: " + tok[:len(tok)-9] + "]"
	flipped := append([]string(nil), lines...)
	b := []byte(tok)
	// Change one base64 digit to another, so the value still decodes and
	// the tamper shows as a failed authentication, whatever the ciphertext.
	if b[20] == 'A' {
		b[20] = 'B'
	} else {
		b[20] = 'A'
	}
	flipped[4] = "  token: " + string(b)
	stanza := append([]string(nil), lines...)
	i := len(lines) - 3 // the recipient line (header, recipient, mac, "")
	sb := []byte(stanza[i])
	sb[len(sb)-10] ^= 1
	stanza[i] = string(sb)
	relabelled := append([]string(nil), lines...)
	_, other := testKeys(t)
	relabelled[i] = "#coffer:recipient " + other.String() + " " + lines[i][strings.LastIndexByte(lines[i], ' ')+1:]
	tests := []struct {
		name, src string
		want      error
		mention   string
	}{
		{"value swapped between keys", strings.Join(swapped, "\n"), ErrDecrypt, `"db.user"`},
		{"truncated ciphertext", strings.Join(truncated, "\n"), ErrMalformed, `"api.token"`},
		{"flipped bit", strings.Join(flipped, "\n"), ErrDecrypt, `"api.token"`},
		{"changed recipient stanza", strings.Join(stanza, "\n"), ErrNoIdentity, "stanza for age1"},
		{"relabelled recipient", strings.Join(relabelled, "\n"), ErrRecipientsModified, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openBytes(t, kr, YAML, []byte(tt.src))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("error %q does not name %s", err, tt.mention)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "abc") {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestValueMovedBetweenFiles(t *testing.T) {
	kr, r := testKeys(t)
	a := string(sealBytes(t, kr, YAML, []byte("password: one\n"), r))
	b := string(sealBytes(t, kr, YAML, []byte("password: two\n"), r))
	tokA := strings.Fields(strings.SplitN(a, "\n", 2)[0])[1]
	moved := strings.Replace(b, strings.Fields(strings.SplitN(b, "\n", 2)[0])[1], tokA, 1)
	if _, err := openBytes(t, kr, YAML, []byte(moved)); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("value from another file: err = %v, want ErrDecrypt", err)
	}
}

func TestTransitRecipientWithoutServer(t *testing.T) {
	r, err := ParseRecipient("coffer://transit/keys/prod")
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&Keyring{}).Seal(context.Background(), YAML, []byte("a: b\n"), []Recipient{r}, nil)
	if !errors.Is(err, ErrNoServer) {
		t.Fatalf("err = %v, want ErrNoServer", err)
	}
}

// TestPassphraseProtectedSSHKey: a file sealed to an SSH key opens with
// the passphrase-protected private key, which asks for its passphrase only
// when a file needs it, and once; a wrong passphrase, or none to ask, is a
// clear error.
func TestPassphraseProtectedSSHKey(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("correct horse "))
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(block)
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRecipient(strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("db:\n  password: hunter2\n")
	sealed := sealBytes(t, &Keyring{}, YAML, plain, r)
	asked := 0
	ask := func(pass string) Passphrase {
		return func() ([]byte, error) { asked++; return []byte(pass), nil }
	}

	ids, err := ParseIdentities(pemKey, "key", ask("correct horse "))
	if err != nil || asked != 0 {
		t.Fatalf("ParseIdentities = %v (asked %d times); want no question before a file needs the key", err, asked)
	}
	kr := &Keyring{Identities: ids}
	for range 2 {
		got, err := openBytes(t, kr, YAML, sealed)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("open with the protected key: %q, %v", got, err)
		}
	}
	if asked != 1 {
		t.Fatalf("the passphrase was asked %d times for two files; want once", asked)
	}

	ids, err = ParseIdentities(pemKey, "key", ask("wrong"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openBytes(t, &Keyring{Identities: ids}, YAML, sealed); err == nil || !strings.Contains(err.Error(), "decrypt") {
		t.Fatalf("open with a wrong passphrase: %v", err)
	}
	if _, err := ParseIdentities(pemKey, "key", nil); err == nil || !strings.Contains(err.Error(), "protected by a passphrase") {
		t.Fatalf("ParseIdentities without a way to ask: %v", err)
	}
}
