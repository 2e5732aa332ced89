package barrier

import (
	"cmp"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// keyringPath is the physical key of the keyring; see the package doc.
const keyringPath = "core/keyring"

// termKey is one keyring key with its AEAD, built once, and the number of
// encryptions made under it since this process loaded it.
type termKey struct {
	redacted
	term        uint32
	key         *secretKey
	installTime time.Time
	aead        cipher.AEAD
	encryptions atomic.Int64
}

func newTermKey(term uint32, key []byte, installTime time.Time) (*termKey, error) {
	k, err := newSecretKey(key)
	if err != nil {
		return nil, err
	}
	aead, err := k.newAEAD()
	if err != nil {
		return nil, err
	}
	return &termKey{term: term, key: k, installTime: installTime, aead: aead}, nil
}

// keyring is the unsealed key material. It is immutable once installed in a
// Barrier (only the path cipher's cache changes): Rotate builds a new keyring
// that shares the root, the old terms and the path cipher.
type keyring struct {
	redacted
	root     *secretKey
	rootAEAD cipher.AEAD
	terms    map[uint32]*termKey
	active   *termKey    // the highest term; nil only while being built
	paths    *pathCipher // the never-rotated path key; nil only while being built
}

func newKeyring(root *secretKey) (*keyring, error) {
	aead, err := root.newAEAD()
	if err != nil {
		return nil, err
	}
	return &keyring{root: root, rootAEAD: aead, terms: map[uint32]*termKey{}}, nil
}

// withTerm returns a copy of kr with tk added as the active term.
func (kr *keyring) withTerm(tk *termKey) *keyring {
	next := &keyring{root: kr.root, rootAEAD: kr.rootAEAD, paths: kr.paths, terms: make(map[uint32]*termKey, len(kr.terms)+1)}
	for t, k := range kr.terms {
		next.terms[t] = k
	}
	next.terms[tk.term] = tk
	next.active = tk
	return next
}

// zeroTerms zeroes every term key; zeroKeys also the path keys and the
// segment cache; zero also the root key.
func (kr *keyring) zeroTerms() {
	for _, tk := range kr.terms {
		tk.key.zero()
	}
}

func (kr *keyring) zeroKeys() {
	kr.zeroTerms()
	if kr.paths != nil {
		kr.paths.zero()
	}
}

func (kr *keyring) zero() {
	kr.zeroKeys()
	kr.root.zero()
}

// keyringJSON is the plaintext form of the keyring (see the package doc).
type keyringJSON struct {
	Terms      []termJSON `json:"terms"`
	ActiveTerm uint32     `json:"active_term"`
	PathKey    []byte     `json:"path_key"`
}

type termJSON struct {
	Term        uint32    `json:"term"`
	Key         []byte    `json:"key"`
	InstallTime time.Time `json:"install_time"`
}

// encrypt returns the keyring as it is stored at keyringPath.
func (kr *keyring) encrypt() ([]byte, error) {
	doc := keyringJSON{ActiveTerm: kr.active.term, PathKey: kr.paths.key.b[:]}
	for _, tk := range kr.terms {
		doc.Terms = append(doc.Terms, termJSON{Term: tk.term, Key: tk.key.b[:], InstallTime: tk.installTime})
	}
	slices.SortFunc(doc.Terms, func(a, b termJSON) int { return cmp.Compare(a.Term, b.Term) })
	plain, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("barrier: encode keyring: %w", err)
	}
	defer clear(plain)
	return encrypt(kr.rootAEAD, keyringTerm, keyringPath, plain)
}

// openKeyring decrypts a stored keyring with root. A failed authentication is
// ErrWrongKey; anything else wrong with the value is ErrDecrypt.
func openKeyring(root *secretKey, value []byte) (*keyring, error) {
	kr, err := newKeyring(root)
	if err != nil {
		return nil, err
	}
	term, err := termOf(value)
	if err == nil && term != keyringTerm {
		err = errUnknownTerm
	}
	var plain []byte
	if err == nil {
		plain, err = decrypt(kr.rootAEAD, keyringPath, value)
	}
	defer clear(plain)
	switch {
	case errors.Is(err, errAuth):
		return nil, ErrWrongKey
	case err != nil:
		return nil, fmt.Errorf("%w: %q: %w", ErrDecrypt, keyringPath, err)
	}
	if err := kr.decode(plain); err != nil {
		kr.zeroKeys()
		return nil, fmt.Errorf("%w: %q: invalid keyring: %w", ErrDecrypt, keyringPath, err)
	}
	return kr, nil
}

// decode fills the terms of an empty keyring from its JSON form.
func (kr *keyring) decode(plain []byte) error {
	var doc keyringJSON
	if err := json.Unmarshal(plain, &doc); err != nil {
		return fmt.Errorf("json: %w", err)
	}
	defer func() {
		for _, t := range doc.Terms {
			clear(t.Key)
		}
		clear(doc.PathKey)
	}()
	for _, t := range doc.Terms {
		if t.Term == keyringTerm {
			return errors.New("term 0 is reserved")
		}
		if kr.terms[t.Term] != nil {
			return fmt.Errorf("duplicate term %d", t.Term)
		}
		tk, err := newTermKey(t.Term, t.Key, t.InstallTime)
		if err != nil {
			return fmt.Errorf("term %d: %w", t.Term, err)
		}
		kr.terms[t.Term] = tk
		if kr.active == nil || tk.term > kr.active.term {
			kr.active = tk
		}
	}
	if kr.active == nil || kr.active.term != doc.ActiveTerm {
		return errors.New("active term is not the highest term")
	}
	paths, err := newPathCipher(doc.PathKey)
	if err != nil {
		return err
	}
	kr.paths = paths
	return nil
}

// inheritCounters copies the encryption counts of the terms kr shares with
// old, so a reload does not reset them.
func (kr *keyring) inheritCounters(old *keyring) {
	for t, tk := range kr.terms {
		if o := old.terms[t]; o != nil {
			tk.encryptions.Store(o.encryptions.Load())
		}
	}
}
