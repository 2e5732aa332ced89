package config

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"time"
)

// option describes one key of a storage, seal or audit block. The tables
// below are the grammar of those blocks: a new backend or sink adds a case
// here, nothing else in the parser changes.
type option struct {
	name     string
	required bool
	// secret options never appear in String, LogValue or error messages.
	secret bool
	// check validates the value; nil accepts any text.
	check func(string) error
}

// storageOptions returns the option keys of storage type typ (retry_join is
// a block, handled apart) and whether the type is known. etcd and
// postgresql are reserved: they parse so files can be written for them, and
// the server reports them unavailable until their backends exist.
func storageOptions(typ string) ([]option, bool) {
	switch typ {
	case "inmem":
		return nil, true
	case "bolt":
		return []option{{name: "path", required: true}}, true
	case "raft":
		return []option{{name: "path", required: true}, {name: "node_id"},
			{name: "snapshot_threshold", check: checkPositiveInt}, {name: "trailing_logs", check: checkPositiveInt}}, true
	case "etcd":
		return []option{
			{name: "address", required: true}, {name: "path"},
			{name: "username"}, {name: "password", secret: true},
			{name: "tls_ca_file"}, {name: "tls_cert_file"}, {name: "tls_key_file"},
			{name: "tls_server_name"},
		}, true
	case "postgresql":
		return []option{
			{name: "connection_url", required: true, secret: true},
			{name: "table"},
		}, true
	}
	return nil, false
}

// sealOptions is storageOptions for seal types. The static seal reads its
// key from a file only; an inline key is not accepted.
func sealOptions(typ string) ([]option, bool) {
	switch typ {
	case "shamir":
		return nil, true
	case "static":
		return []option{{name: "key_file", required: true}}, true
	case "pkcs11":
		return []option{
			{name: "lib", required: true}, {name: "slot"}, {name: "token_label"},
			{name: "pin", secret: true}, {name: "key_label", required: true},
		}, true
	}
	return nil, false
}

// auditOptions is storageOptions for audit sink types. `name` is not an
// option: it is Audit.Name. internal/audit.ParseSinkConfig reads them.
func auditOptions(typ string) ([]option, bool) {
	common := []option{
		{name: "mode", check: checkAuditMode(typ)},
		{name: "hmac_accessor", check: checkBool},
		{name: "log_raw", check: checkBool},
		{name: "checkpoint_entries", check: checkPositiveInt},
		{name: "checkpoint_interval", check: checkPositiveDuration},
		{name: "headers"},
	}
	switch typ {
	case "file":
		return append(common, option{name: "path", required: true}, option{name: "file_mode", check: checkFileMode}), true
	case "socket":
		return append(common,
			option{name: "address", required: true},
			option{name: "socket_type", check: checkSocketType},
			option{name: "write_timeout", check: checkPositiveDuration},
		), true
	case "stdout":
		return common, true
	}
	return nil, false
}

// checkAuditMode accepts "required" or "best-effort"; the file sink also
// takes an octal permission, Vault's meaning of `mode`.
func checkAuditMode(typ string) func(string) error {
	return func(s string) error {
		if s == "required" || s == "best-effort" {
			return nil
		}
		if typ != "file" {
			return errors.New(`must be "required" or "best-effort"`)
		}
		if checkFileMode(s) != nil {
			return errors.New(`must be "required", "best-effort" or an octal file mode such as "0600"`)
		}
		return nil
	}
}

func checkBool(s string) error {
	if _, err := strconv.ParseBool(s); err != nil {
		return errors.New("must be true or false")
	}
	return nil
}

func checkPositiveInt(s string) error {
	if n, err := strconv.Atoi(s); err != nil || n < 1 {
		return errors.New("must be a whole number of at least 1")
	}
	return nil
}

func checkPositiveDuration(s string) error {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return nil
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return nil
	}
	return errors.New(`must be a positive duration such as "10s"`)
}

// Type names, in the order error messages list them.
const (
	storageTypes = `"inmem", "bolt", "raft", "etcd" or "postgresql"`
	sealTypes    = `"shamir", "static" or "pkcs11"`
	auditTypes   = `"file", "socket" or "stdout"`
)

func checkFileMode(s string) error {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o777 {
		return errors.New(`must be an octal file mode such as "0600"`)
	}
	return nil
}

func checkSocketType(s string) error {
	if !slices.Contains([]string{"tcp", "udp", "unix"}, s) {
		return errors.New(`must be "tcp", "udp" or "unix"`)
	}
	return nil
}

// findOption returns the option called name in opts.
func findOption(opts []option, name string) (option, bool) {
	for _, o := range opts {
		if o.name == name {
			return o, true
		}
	}
	return option{}, false
}

// checkOptions validates an options map against its table: unknown keys,
// missing required keys and per-key checks. key is the source-map prefix of
// the block ("storage", "seal", "audit[2]").
func checkOptions(rep *report, key, block string, opts []option, values map[string]string) {
	for _, name := range sortedKeys(values) {
		o, ok := findOption(opts, name)
		if !ok {
			rep.fail(key+"."+name, block, name, "unknown key")
			continue
		}
		if o.check == nil {
			continue
		}
		if err := o.check(values[name]); err != nil {
			rep.fail(key+"."+name, block, name, "%s", err.Error())
		}
	}
	for _, o := range opts {
		if o.required && values[o.name] == "" {
			rep.fail(key+"."+o.name, block, o.name, "required")
		}
	}
}

// sortedKeys returns the keys of m in order, so reports are deterministic.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
