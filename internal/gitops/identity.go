package gitops

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
)

// maxIdentityFile bounds an identity file's size.
const maxIdentityFile = 1 << 20

// LoadIdentities reads an identity file: age identities (as age-keygen and
// coffer keygen write them) or an unencrypted SSH private key (ed25519 or
// rsa).
func LoadIdentities(path string) ([]age.Identity, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading identity: %w", err)
	}
	if len(data) > maxIdentityFile {
		return nil, fmt.Errorf("identity file %s is too large", path)
	}
	return ParseIdentities(data, path)
}

// ParseIdentities parses identity file content; name is for messages.
func ParseIdentities(data []byte, name string) ([]age.Identity, error) {
	if bytes.Contains(data, []byte("PRIVATE KEY-----")) {
		id, err := agessh.ParseIdentity(data)
		if err != nil {
			if strings.Contains(err.Error(), "passphrase") {
				return nil, fmt.Errorf("identity %s: passphrase-protected SSH keys are not supported (use an unencrypted key or an age identity): %w", name, err)
			}
			return nil, fmt.Errorf("identity %s: %w", name, err)
		}
		return []age.Identity{id}, nil
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("identity %s: %w", name, err)
	}
	return ids, nil
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
