package audit

import (
	"fmt"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Mode says whether a sink's failure fails the request.
type Mode int

// Sink modes.
const (
	// Required sinks fail closed: a request whose entry no required sink
	// accepted is refused.
	Required Mode = iota
	// BestEffort sinks never fail a request; their errors are logged only.
	BestEffort
)

func (m Mode) String() string {
	if m == BestEffort {
		return "best-effort"
	}
	return "required"
}

// Defaults of the sink options.
const (
	DefaultCheckpointEntries  = 100
	DefaultCheckpointInterval = 10 * time.Second
	DefaultWriteTimeout       = 2 * time.Second
	DefaultFileMode           = os.FileMode(0o600)
)

// SinkConfig is one sink as the config file's `audit` block declares it.
type SinkConfig struct {
	Type string // file | socket | stdout
	Name string
	// Path and FileMode are the file sink's.
	Path     string
	FileMode os.FileMode
	// Address, SocketType ("tcp", "udp", "unix") and WriteTimeout are the
	// socket sink's. WriteTimeout also bounds dialling and waiting for the
	// sink while another request writes to it.
	Address      string
	SocketType   string
	WriteTimeout time.Duration
	Mode         Mode
	// HMACAccessor hashes token accessors (default true).
	HMACAccessor bool
	// LogRaw writes secrets in plaintext (default false; warned at start).
	LogRaw bool
	// Headers are the request headers written (canonical names, values
	// plain). X-Vault-Token and Authorization are never written.
	Headers []string
	// CheckpointEntries and CheckpointInterval say how often a signed
	// checkpoint is written: after that many entries, or that long after
	// the first unsigned entry, whichever comes first.
	CheckpointEntries  int
	CheckpointInterval time.Duration
}

// ParseSinkConfig reads an `audit` block's options. `mode` takes "required"
// or "best-effort"; an octal value (such as "0600") is accepted as the file
// sink's permissions, as Vault's file device uses `mode`; `file_mode` sets
// them explicitly.
func ParseSinkConfig(typ, name string, opts map[string]string) (SinkConfig, error) {
	c := SinkConfig{Type: typ, Name: name, Path: opts["path"], FileMode: DefaultFileMode,
		Address: opts["address"], SocketType: opts["socket_type"], WriteTimeout: DefaultWriteTimeout,
		HMACAccessor: true, CheckpointEntries: DefaultCheckpointEntries, CheckpointInterval: DefaultCheckpointInterval}
	if c.Name == "" {
		c.Name = typ
	}
	var err error
	for k, v := range opts {
		switch k {
		case "path", "address", "socket_type":
		case "mode":
			err = c.setMode(v)
		case "file_mode":
			err = c.setFileMode(v)
		case "hmac_accessor":
			c.HMACAccessor, err = strconv.ParseBool(v)
		case "log_raw":
			c.LogRaw, err = strconv.ParseBool(v)
		case "write_timeout":
			c.WriteTimeout, err = parsePositiveDuration(v)
		case "checkpoint_entries":
			c.CheckpointEntries, err = strconv.Atoi(v)
			if err == nil && c.CheckpointEntries < 1 {
				err = fmt.Errorf("must be at least 1")
			}
		case "checkpoint_interval":
			c.CheckpointInterval, err = parsePositiveDuration(v)
		case "headers":
			c.Headers, err = parseHeaders(v)
		default:
			err = fmt.Errorf("unknown option")
		}
		if err != nil {
			return c, fmt.Errorf("%w: audit %q option %s: %v", ErrBadConfig, c.Name, k, err)
		}
	}
	return c, c.check()
}

// neverAudited are headers that carry tokens.
var neverAudited = []string{"X-Vault-Token", "Authorization", "Cookie"}

// parseHeaders reads a comma-separated list of header names.
func parseHeaders(v string) ([]string, error) {
	var out []string
	for _, h := range strings.Split(v, ",") {
		h = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if slices.Contains(neverAudited, h) {
			return nil, fmt.Errorf("%s carries credentials and is never audited", h)
		}
		out = append(out, h)
	}
	return out, nil
}

func (c *SinkConfig) setMode(v string) error {
	switch v {
	case "required", "":
		c.Mode = Required
		return nil
	case "best-effort", "best_effort":
		c.Mode = BestEffort
		return nil
	}
	if c.Type == "file" {
		return c.setFileMode(v)
	}
	return fmt.Errorf(`must be "required" or "best-effort"`)
}

func (c *SinkConfig) setFileMode(v string) error {
	m, err := strconv.ParseUint(v, 8, 32)
	if err != nil || m > 0o777 {
		return fmt.Errorf(`must be "required", "best-effort" or an octal file mode such as "0600"`)
	}
	c.FileMode = os.FileMode(m)
	return nil
}

func parsePositiveDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		if n, nerr := strconv.Atoi(v); nerr == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
	}
	if err == nil && d <= 0 {
		err = fmt.Errorf("must be positive")
	}
	return d, err
}

func (c *SinkConfig) check() error {
	switch c.Type {
	case "file":
		if c.Path == "" {
			return fmt.Errorf("%w: audit %q: file sink needs a path", ErrBadConfig, c.Name)
		}
	case "socket":
		if c.Address == "" {
			return fmt.Errorf("%w: audit %q: socket sink needs an address", ErrBadConfig, c.Name)
		}
		if c.SocketType == "" {
			c.SocketType = "tcp"
		}
		if !slices.Contains([]string{"tcp", "udp", "unix"}, c.SocketType) {
			return fmt.Errorf("%w: audit %q: socket_type must be tcp, udp or unix", ErrBadConfig, c.Name)
		}
	case "stdout":
	default:
		return fmt.Errorf("%w: unknown audit sink type %q", ErrBadConfig, c.Type)
	}
	return nil
}

// Destination is the file path, socket address or "stdout".
func (c SinkConfig) Destination() string {
	switch c.Type {
	case "file":
		return c.Path
	case "socket":
		return c.SocketType + "://" + c.Address
	}
	return "stdout"
}
