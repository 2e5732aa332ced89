package gitops

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Format is a file format whose values can be sealed.
type Format int

// The supported formats.
const (
	YAML Format = iota + 1
	JSON
	Dotenv
	INI
)

// String returns the format's name.
func (f Format) String() string {
	switch f {
	case YAML:
		return "yaml"
	case JSON:
		return "json"
	case Dotenv:
		return "dotenv"
	case INI:
		return "ini"
	}
	return "unknown"
}

// ParseFormat parses a format name as String returns it.
func ParseFormat(s string) (Format, error) {
	for _, f := range []Format{YAML, JSON, Dotenv, INI} {
		if f.String() == s {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%w: format %q (want yaml, json, dotenv or ini)", ErrUnsupported, s)
}

// FormatFor picks a format by file name: .yaml/.yml, .json, .env (and
// .env.*, *.env), .ini/.cfg/.conf.
func FormatFor(name string) (Format, error) {
	base := strings.ToLower(filepath.Base(name))
	switch ext := filepath.Ext(base); {
	case ext == ".yaml" || ext == ".yml":
		return YAML, nil
	case ext == ".json":
		return JSON, nil
	case ext == ".env" || base == ".env" || strings.HasPrefix(base, ".env."):
		return Dotenv, nil
	case ext == ".ini" || ext == ".cfg" || ext == ".conf":
		return INI, nil
	}
	return 0, fmt.Errorf("%w: cannot tell the format of %s (use --format)", ErrUnsupported, name)
}

func (f Format) walker() walker {
	switch f {
	case JSON, YAML:
		return yamlWalker{}
	case Dotenv:
		return dotenvWalker{}
	default:
		return iniWalker{}
	}
}

func (f Format) attach(body []byte, m *meta) ([]byte, error) {
	if f == JSON {
		return jsonBlock{}.attach(body, m)
	}
	return commentBlock{}.attach(body, m), nil
}

func (f Format) detach(src []byte) ([]byte, *meta, error) {
	if f == JSON {
		return jsonBlock{}.detach(src)
	}
	return commentBlock{}.detach(src)
}

// File is a parsed file: its body (values sealed or not) and, when
// sealed, its recipient block.
type File struct {
	format Format
	body   []byte
	meta   *meta
}

// Parse splits src into body and recipient block.
func Parse(f Format, src []byte) (*File, error) {
	body, m, err := f.detach(src)
	if err != nil {
		return nil, err
	}
	return &File{format: f, body: body, meta: m}, nil
}

// Format returns the file's format.
func (f *File) Format() Format { return f.format }

// Body returns the file without its recipient block: values already sealed
// stay tokens, values added in the clear stay in the clear.
func (f *File) Body() []byte { return f.body }

// IsSealed reports whether the file has a recipient block.
func (f *File) IsSealed() bool { return f.meta != nil }

// Recipients lists the recipients the file is sealed for.
func (f *File) Recipients() []string {
	if f.meta == nil {
		return nil
	}
	return f.meta.recipients()
}

// Bytes renders the file.
func (f *File) Bytes() ([]byte, error) {
	if f.meta == nil {
		return f.body, nil
	}
	m := *f.meta
	return f.format.attach(f.body, &m)
}

// DataKey unwraps the file's data key.
func (kr *Keyring) DataKey(ctx context.Context, f *File) (*DataKey, error) {
	if f.meta == nil {
		return nil, ErrNotSealed
	}
	return kr.unwrap(ctx, f.meta)
}

// Open returns the file's content with every value unsealed: for a file
// sealed by Seal, byte for byte the sealed input.
func (kr *Keyring) Open(ctx context.Context, f *File) ([]byte, error) {
	k, err := kr.DataKey(ctx, f)
	if err != nil {
		return nil, err
	}
	return openFields(f.format.walker(), f.body, k)
}

// Seal seals the values of plain under a new data key for recipients.
func (kr *Keyring) Seal(ctx context.Context, format Format, plain []byte, recipients []Recipient, sel Selector) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, fmt.Errorf("%w: no recipients", ErrUnsupported)
	}
	k, err := NewDataKey()
	if err != nil {
		return nil, err
	}
	body, err := sealFields(format.walker(), plain, k, sel)
	if err != nil {
		return nil, err
	}
	m := &meta{}
	for _, r := range recipients {
		w, err := kr.wrap(ctx, k, r)
		if err != nil {
			return nil, err
		}
		m.stanzas = append(m.stanzas, Stanza{Recipient: r.String(), Wrapped: w})
	}
	return attachSigned(format, body, m, k)
}

// Reseal seals plain (typically prev's content after an edit) with prev's
// data key and recipient block: values that did not change keep their
// tokens, so the diff shows only the changed values.
func (kr *Keyring) Reseal(ctx context.Context, prev *File, plain []byte, sel Selector) ([]byte, error) {
	k, err := kr.DataKey(ctx, prev)
	if err != nil {
		return nil, err
	}
	body, err := sealFields(prev.format.walker(), plain, k, sel)
	if err != nil {
		return nil, err
	}
	m := *prev.meta
	return prev.format.attach(body, &m)
}

func attachSigned(format Format, body []byte, m *meta, k *DataKey) ([]byte, error) {
	// attach sets noEOL this way too; the MAC covers it.
	m.noEOL = format != JSON && len(body) > 0 && body[len(body)-1] != '\n'
	m.mac = m.computeMAC(k)
	return format.attach(body, m)
}

// RekeyResult says what Rekey changed.
type RekeyResult struct {
	Added, Removed []string
}

// Changed reports whether any recipient was added or removed.
func (r RekeyResult) Changed() bool { return len(r.Added)+len(r.Removed) > 0 }

// Diff compares a file's recipients with the wanted ones, without keys.
func Diff(f *File, want []Recipient) RekeyResult {
	have := f.Recipients()
	var res RekeyResult
	for _, r := range want {
		if !slices.Contains(have, r.String()) {
			res.Added = append(res.Added, r.String())
		}
	}
	for _, h := range have {
		if !slices.ContainsFunc(want, func(r Recipient) bool { return r.String() == h }) {
			res.Removed = append(res.Removed, h)
		}
	}
	return res
}

// Rekey re-wraps the file's data key for want, keeping the stanzas of
// recipients that stay (so an unchanged recipient's line stays the same)
// and the values as they are. It returns the new file content, or the
// same content when nothing changed.
func (kr *Keyring) Rekey(ctx context.Context, f *File, want []Recipient) ([]byte, RekeyResult, error) {
	res := Diff(f, want)
	if !res.Changed() {
		out, err := f.Bytes()
		return out, res, err
	}
	k, err := kr.DataKey(ctx, f)
	if err != nil {
		return nil, res, err
	}
	m := &meta{}
	for _, r := range want {
		i := slices.IndexFunc(f.meta.stanzas, func(s Stanza) bool { return s.Recipient == r.String() })
		if i >= 0 {
			m.stanzas = append(m.stanzas, f.meta.stanzas[i])
			continue
		}
		w, err := kr.wrap(ctx, k, r)
		if err != nil {
			return nil, res, err
		}
		m.stanzas = append(m.stanzas, Stanza{Recipient: r.String(), Wrapped: w})
	}
	out, err := attachSigned(f.format, f.body, m, k)
	return out, res, err
}

// RotateDataKey re-seals the file under a new data key for want: every
// sealed value gets new ciphertext, so copies of the old data key (kept by
// a removed recipient) open nothing written from now on. Values sealed
// before stay sealed; clear values are sealed when sel selects them.
func (kr *Keyring) RotateDataKey(ctx context.Context, f *File, want []Recipient, sel Selector) ([]byte, error) {
	plain, err := kr.Open(ctx, f)
	if err != nil {
		return nil, err
	}
	fs, err := f.format.walker().fields(f.body)
	if err != nil {
		return nil, err
	}
	sealed := map[string]bool{}
	for _, fl := range fs {
		if IsToken(fl.value) {
			sealed[fl.path] = true
		}
	}
	keep := func(p string) bool { return sealed[p] || sel == nil || sel(p) }
	return kr.Seal(ctx, f.format, plain, want, keep)
}
