package gitops

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

// transitScheme prefixes server recipients: coffer://<mount>/keys/<name>.
const transitScheme = "coffer://"

// Recipient wraps a data key for one party.
type Recipient struct {
	// id is the normalised recipient string written into files.
	id string
	// age is set for age X25519 and SSH recipients.
	age age.Recipient
	// mount and key are set for server (transit) recipients.
	mount, key string
}

// String returns the normalised recipient string.
func (r Recipient) String() string { return r.id }

// IsServer reports whether the recipient is a Coffer transit key.
func (r Recipient) IsServer() bool { return r.age == nil }

// ParseRecipient parses an age X25519 public key (age1...), an SSH public
// key in authorized_keys form (ssh-ed25519 or ssh-rsa; the comment is
// dropped) or coffer://<mount>/keys/<name>, as coffer://transit/keys/prod-eu.
func ParseRecipient(s string) (Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "age1"):
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return Recipient{}, fmt.Errorf("recipient %q: %w", truncate(s), err)
		}
		return Recipient{id: r.String(), age: r}, nil
	case strings.HasPrefix(s, "ssh-"):
		pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
		if err != nil {
			return Recipient{}, fmt.Errorf("recipient %q: %w", truncate(s), err)
		}
		id := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk)))
		r, err := agessh.ParseRecipient(id)
		if err != nil {
			return Recipient{}, fmt.Errorf("recipient %q: %w", truncate(s), err)
		}
		return Recipient{id: id, age: r}, nil
	case strings.HasPrefix(s, transitScheme):
		mount, key, ok := strings.Cut(strings.TrimPrefix(s, transitScheme), "/keys/")
		if !ok || mount == "" || key == "" || strings.ContainsAny(key, "/ ") || strings.Contains(mount, " ") {
			return Recipient{}, fmt.Errorf("recipient %q: want coffer://<mount>/keys/<name>", s)
		}
		return Recipient{id: s, mount: mount, key: key}, nil
	}
	return Recipient{}, fmt.Errorf("recipient %q: not an age, ssh or coffer:// recipient", truncate(s))
}

// Transit is the part of a Coffer (or Vault) transit engine used to wrap
// data keys held by the server.
type Transit interface {
	// Encrypt encrypts plaintext under mount/keys/key and returns the
	// vault:vN:... ciphertext.
	Encrypt(ctx context.Context, mount, key string, plaintext []byte) (string, error)
	// Decrypt reverses Encrypt.
	Decrypt(ctx context.Context, mount, key, ciphertext string) ([]byte, error)
}

// Keyring holds what unwraps and wraps data keys: age identities (X25519
// or SSH private keys) and, optionally, a server for transit recipients.
type Keyring struct {
	Identities []age.Identity
	Transit    Transit
}

// wrap wraps the data key for r.
func (kr *Keyring) wrap(ctx context.Context, k *DataKey, r Recipient) (string, error) {
	if r.IsServer() {
		if kr.Transit == nil {
			return "", fmt.Errorf("wrapping for %s: %w", r.id, ErrNoServer)
		}
		ct, err := kr.Transit.Encrypt(ctx, r.mount, r.key, k.b[:])
		if err != nil {
			return "", fmt.Errorf("wrapping for %s: %w", r.id, err)
		}
		return ct, nil
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r.age)
	if err != nil {
		return "", fmt.Errorf("wrapping for %s: %w", truncate(r.id), err)
	}
	if _, err := w.Write(k.b[:]); err != nil {
		return "", fmt.Errorf("wrapping for %s: %w", truncate(r.id), err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("wrapping for %s: %w", truncate(r.id), err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// unwrap tries every stanza with the keyring, offline identities before
// the server, and returns the data key of the first that opens, after
// checking the block's MAC.
func (kr *Keyring) unwrap(ctx context.Context, m *meta) (*DataKey, error) {
	var errs []error
	ordered := slices.Clone(m.stanzas)
	slices.SortStableFunc(ordered, func(a, b Stanza) int {
		return cmp.Compare(b2i(strings.HasPrefix(a.Recipient, transitScheme)), b2i(strings.HasPrefix(b.Recipient, transitScheme)))
	})
	for _, s := range ordered {
		k, err := kr.unwrapOne(ctx, s)
		if err != nil {
			if !errors.Is(err, errSkip) {
				errs = append(errs, err)
			}
			continue
		}
		if err := m.verify(k); err != nil {
			return nil, err
		}
		return k, nil
	}
	return nil, fmt.Errorf("%w: tried %d identities and %s", ErrNoIdentity, len(kr.Identities), serverState(kr, errs))
}

func serverState(kr *Keyring, errs []error) string {
	msg := "no server"
	if kr.Transit != nil {
		msg = "the server"
	}
	if len(errs) > 0 {
		msg += " (" + errors.Join(errs...).Error() + ")"
	}
	return strings.ReplaceAll(msg, "\n", "; ")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// errSkip means a stanza is not for this keyring.
var errSkip = errors.New("stanza not for this keyring")

func (kr *Keyring) unwrapOne(ctx context.Context, s Stanza) (*DataKey, error) {
	r, err := ParseRecipient(s.Recipient)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if r.IsServer() {
		if kr.Transit == nil {
			return nil, errSkip
		}
		raw, err := kr.Transit.Decrypt(ctx, r.mount, r.key, s.Wrapped)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.id, err)
		}
		return dataKeyFrom(raw)
	}
	if len(kr.Identities) == 0 {
		return nil, errSkip
	}
	raw, err := base64.StdEncoding.DecodeString(s.Wrapped)
	if err != nil {
		return nil, fmt.Errorf("%w: stanza for %s is not base64", ErrMalformed, truncate(r.id))
	}
	rd, err := age.Decrypt(bytes.NewReader(raw), kr.Identities...)
	var nm *age.NoIdentityMatchError
	if errors.As(err, &nm) {
		return nil, errSkip
	}
	if err != nil {
		return nil, fmt.Errorf("stanza for %s: %w", truncate(r.id), err)
	}
	key, err := io.ReadAll(io.LimitReader(rd, 64))
	if err != nil {
		return nil, fmt.Errorf("stanza for %s: %w", truncate(r.id), err)
	}
	return dataKeyFrom(key)
}
