package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

// maxIdentityFile bounds an identity file's size.
const maxIdentityFile = 1 << 20

// Passphrase returns the passphrase of a protected SSH key; it is asked
// only when a file is opened with that key, at most once.
type Passphrase func() ([]byte, error)

// LoadIdentities reads an identity file: age identities (as age-keygen and
// coffer keygen write them) or an SSH private key (ed25519 or rsa). A
// passphrase-protected OpenSSH key needs passphrase (nil: such keys are
// refused).
func LoadIdentities(path string, passphrase Passphrase) ([]age.Identity, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading identity: %w", err)
	}
	if len(data) > maxIdentityFile {
		return nil, fmt.Errorf("identity file %s is too large", path)
	}
	return ParseIdentities(data, path, passphrase)
}

// ParseIdentities parses identity file content, as LoadIdentities; name is
// for messages.
func ParseIdentities(data []byte, name string, passphrase Passphrase) ([]age.Identity, error) {
	if !bytes.Contains(data, []byte("PRIVATE KEY-----")) {
		ids, err := age.ParseIdentities(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("identity %s: %w", name, err)
		}
		return ids, nil
	}
	id, err := agessh.ParseIdentity(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		return []age.Identity{id}, nil
	case !errors.As(err, &missing):
		return nil, fmt.Errorf("identity %s: %w", name, err)
	case missing.PublicKey == nil:
		return nil, fmt.Errorf("identity %s: a passphrase-protected key in the old PEM format; convert it with ssh-keygen -p -f KEY (OpenSSH format)", name)
	case passphrase == nil:
		return nil, fmt.Errorf("identity %s: the SSH key is protected by a passphrase, and there is no terminal to ask for it", name)
	}
	var once sync.Once
	var pass []byte
	var passErr error
	ask := func() ([]byte, error) {
		once.Do(func() { pass, passErr = passphrase() })
		return pass, passErr
	}
	eid, err := agessh.NewEncryptedSSHIdentity(missing.PublicKey, data, ask)
	if err != nil {
		return nil, fmt.Errorf("identity %s: %w", name, err)
	}
	return []age.Identity{eid}, nil
}

// GenerateIdentity returns a new age X25519 identity file (age's format:
// creation time and public key as comments, then the secret key) and its
// public key.
func GenerateIdentity(created string) (file []byte, public string, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, "", fmt.Errorf("generating identity: %w", err)
	}
	public = id.Recipient().String()
	file = fmt.Appendf(nil, "# created: %s\n# public key: %s\n%s\n", created, public, id.String())
	return file, public, nil
}
