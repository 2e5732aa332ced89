package config

import (
	"log/slog"
	"strconv"
	"strings"
)

// redacted replaces option values that may be secret.
const redacted = "[REDACTED]"

// String prints the storage block with secret and unknown option values
// replaced by [REDACTED] (a postgresql connection_url carries a password).
func (s Storage) String() string {
	opts, _ := storageOptions(s.Type)
	str := format("storage", s.Type, opts, s.Options)
	if len(s.RetryJoin) > 0 {
		str += " retry_join=" + strconv.Itoa(len(s.RetryJoin))
	}
	return str
}

// GoString is String, so %#v does not print secrets either.
func (s Storage) GoString() string { return s.String() }

// LogValue logs the storage type and its options, redacted as in String.
func (s Storage) LogValue() slog.Value {
	opts, _ := storageOptions(s.Type)
	return slog.GroupValue(append([]slog.Attr{slog.String("type", s.Type)},
		optionAttrs(opts, s.Options)...)...)
}

// String prints the seal block with secret values (pkcs11 pin) and unknown
// option values replaced by [REDACTED].
func (s Seal) String() string {
	opts, _ := sealOptions(s.Type)
	return format("seal", s.Type, opts, s.Options)
}

// GoString is String, so %#v does not print secrets either.
func (s Seal) GoString() string { return s.String() }

// LogValue logs the seal type and its options, redacted as in String.
func (s Seal) LogValue() slog.Value {
	opts, _ := sealOptions(s.Type)
	return slog.GroupValue(append([]slog.Attr{slog.String("type", s.Type)},
		optionAttrs(opts, s.Options)...)...)
}

// LogValue logs a summary of the configuration without secret values.
func (c Config) LogValue() slog.Value {
	addrs := make([]string, len(c.Listeners))
	for i, l := range c.Listeners {
		addrs[i] = l.Address
	}
	seal := slog.StringValue("shamir")
	if c.Seal != nil {
		seal = c.Seal.LogValue()
	}
	audits := make([]string, len(c.Audit))
	for i, a := range c.Audit {
		audits[i] = a.Type + ":" + a.Name
	}
	return slog.GroupValue(
		slog.Any("storage", c.Storage.LogValue()),
		slog.Any("seal", seal),
		slog.String("listeners", strings.Join(addrs, ",")),
		slog.String("audit", strings.Join(audits, ",")),
		slog.String("api_addr", c.APIAddr),
		slog.String("log_level", c.LogLevel),
	)
}

// shown returns the value of option name as it may be printed.
func shown(opts []option, name, value string) string {
	o, known := findOption(opts, name)
	if !known || o.secret {
		return redacted
	}
	return strconv.Quote(value)
}

// format prints `kind "type" {key="value" secret=[REDACTED]}`.
func format(kind, typ string, opts []option, values map[string]string) string {
	var b strings.Builder
	b.WriteString(quote(kind, typ) + " {")
	for i, name := range sortedKeys(values) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(name + "=" + shown(opts, name, values[name]))
	}
	b.WriteByte('}')
	return b.String()
}

func optionAttrs(opts []option, values map[string]string) []slog.Attr {
	attrs := make([]slog.Attr, 0, len(values))
	for _, name := range sortedKeys(values) {
		v := values[name]
		if o, known := findOption(opts, name); !known || o.secret {
			v = redacted
		}
		attrs = append(attrs, slog.String(name, v))
	}
	return attrs
}
