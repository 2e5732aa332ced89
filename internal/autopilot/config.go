package autopilot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// ConfigKey is the storage key (in the barrier) of the autopilot
// configuration set through sys/storage/raft/autopilot/configuration.
const ConfigKey = "sys/raft/autopilot-config"

// minDeadServerThreshold is Vault's floor for
// dead_server_last_contact_threshold: anything shorter removes servers that
// are only restarting.
const minDeadServerThreshold = time.Minute

// minQuorumWithCleanup is Vault's floor for min_quorum when dead servers are
// cleaned up: below three voters a cluster tolerates no failure at all.
const minQuorumWithCleanup = 3

// ErrInvalidConfig is wrapped by every error ParseConfig and Validate report.
// Those errors are also logical errors of kind KindInvalidRequest, so a
// handler may return them as they are (a 400 with the message).
var ErrInvalidConfig = errors.New("autopilot: invalid configuration")

// Config tunes autopilot. The field names in JSON are Vault's.
type Config struct {
	// CleanupDeadServers removes servers that have been out of contact for
	// DeadServerLastContactThreshold from the raft configuration, as long as
	// at least MinQuorum voters remain.
	CleanupDeadServers bool
	// DeadServerLastContactThreshold is how long a server may go without
	// answering before it counts as dead (failed).
	DeadServerLastContactThreshold time.Duration
	// LastContactThreshold is how long a server may go without contact with
	// the leader before it counts as unhealthy.
	LastContactThreshold time.Duration
	// MaxTrailingLogs is how many log entries a server may lag behind the
	// leader and still count as healthy.
	MaxTrailingLogs uint64
	// MinQuorum is the number of voters dead-server cleanup never goes below.
	MinQuorum uint
	// ServerStabilizationTime is how long a new (non-voting) server must be
	// healthy before it is promoted to voter.
	ServerStabilizationTime time.Duration
}

// DefaultConfig returns Vault's defaults: no cleanup, 24h dead threshold,
// 10s contact threshold, 1000 trailing logs, 10s stabilization.
func DefaultConfig() Config {
	return Config{
		DeadServerLastContactThreshold: 24 * time.Hour,
		LastContactThreshold:           10 * time.Second,
		MaxTrailingLogs:                1000,
		ServerStabilizationTime:        10 * time.Second,
	}
}

// Validate checks Vault's rules: positive thresholds, a dead-server
// threshold of at least a minute, and min_quorum of at least 3 when
// cleanup_dead_servers is on.
func (c Config) Validate() error {
	switch {
	case c.LastContactThreshold <= 0:
		return invalid("last_contact_threshold must be positive")
	case c.ServerStabilizationTime <= 0:
		return invalid("server_stabilization_time must be positive")
	case c.MaxTrailingLogs == 0:
		return invalid("max_trailing_logs must be positive")
	case c.DeadServerLastContactThreshold < minDeadServerThreshold:
		return invalid("dead_server_last_contact_threshold must be at least %s", minDeadServerThreshold)
	case c.CleanupDeadServers && c.MinQuorum < minQuorumWithCleanup:
		return invalid("min_quorum must be at least %d when cleanup_dead_servers is on", minQuorumWithCleanup)
	}
	return nil
}

// withDefaults fills zero fields from DefaultConfig, so a Config built by
// hand (or a zero Config) never makes every server unhealthy.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.DeadServerLastContactThreshold <= 0 {
		c.DeadServerLastContactThreshold = d.DeadServerLastContactThreshold
	}
	if c.LastContactThreshold <= 0 {
		c.LastContactThreshold = d.LastContactThreshold
	}
	if c.MaxTrailingLogs == 0 {
		c.MaxTrailingLogs = d.MaxTrailingLogs
	}
	if c.ServerStabilizationTime <= 0 {
		c.ServerStabilizationTime = d.ServerStabilizationTime
	}
	if c.CleanupDeadServers && c.MinQuorum == 0 {
		c.MinQuorum = minQuorumWithCleanup
	}
	return c
}

// Map renders c as Vault's sys/storage/raft/autopilot/configuration
// response data: durations as Go duration strings ("10s", "24h0m0s").
func (c Config) Map() map[string]any {
	return map[string]any{
		"cleanup_dead_servers":               c.CleanupDeadServers,
		"dead_server_last_contact_threshold": c.DeadServerLastContactThreshold.String(),
		"last_contact_threshold":             c.LastContactThreshold.String(),
		"max_trailing_logs":                  c.MaxTrailingLogs,
		"min_quorum":                         c.MinQuorum,
		"server_stabilization_time":          c.ServerStabilizationTime.String(),
	}
}

// MarshalJSON writes the Map form.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.Map()) }

// configSchema is the request schema of ParseConfig. disable_upgrade_migration
// is accepted for the official client, which always sends it; Coffer has no
// upgrade migration, so it has no effect.
func configSchema() map[string]*logical.Field {
	return map[string]*logical.Field{
		"cleanup_dead_servers":               {Type: logical.TypeBool},
		"dead_server_last_contact_threshold": {Type: logical.TypeDuration},
		"last_contact_threshold":             {Type: logical.TypeDuration},
		"max_trailing_logs":                  {Type: logical.TypeInt},
		"min_quorum":                         {Type: logical.TypeInt},
		"server_stabilization_time":          {Type: logical.TypeDuration},
		"disable_upgrade_migration":          {Type: logical.TypeBool},
	}
}

// ParseConfig applies the fields of an API request (or of the stored
// configuration) to current and validates the result. Durations are Go
// duration strings ("10s", "1h30m", also "3d") or seconds as numbers;
// booleans and integers may be strings. As in Vault, a field that is absent,
// zero or empty leaves the current value unchanged, except
// cleanup_dead_servers, which is always applied. Turning cleanup on with
// min_quorum unset sets min_quorum to 3. An unknown field is an error.
func ParseConfig(current Config, data map[string]any) (Config, error) {
	d := &logical.FieldData{Raw: data, Schema: configSchema()}
	if unknown := d.Unknown(); len(unknown) > 0 {
		return current, invalid("unknown field(s): %s", strings.Join(unknown, ", "))
	}
	if err := d.Validate(); err != nil {
		return current, invalid("%s", err.Error())
	}
	c := current
	if v, ok := d.GetOk("cleanup_dead_servers"); ok {
		c.CleanupDeadServers = v.(bool)
	}
	setDuration(&c.DeadServerLastContactThreshold, d, "dead_server_last_contact_threshold")
	setDuration(&c.LastContactThreshold, d, "last_contact_threshold")
	setDuration(&c.ServerStabilizationTime, d, "server_stabilization_time")
	n, err := nonNegative(d, "max_trailing_logs")
	if err != nil {
		return current, err
	}
	if n > 0 {
		c.MaxTrailingLogs = uint64(n)
	}
	if n, err = nonNegative(d, "min_quorum"); err != nil {
		return current, err
	}
	if n > 0 {
		c.MinQuorum = uint(n)
	}
	if c.CleanupDeadServers && c.MinQuorum == 0 {
		c.MinQuorum = minQuorumWithCleanup
	}
	if err := c.Validate(); err != nil {
		return current, err
	}
	return c, nil
}

func setDuration(dst *time.Duration, d *logical.FieldData, name string) {
	if v := d.Duration(name); v > 0 {
		*dst = v
	}
}

// maxCount bounds max_trailing_logs and min_quorum: larger values are
// typing mistakes, and min_quorum must fit a uint on every platform.
const maxCount = 1 << 31

func nonNegative(d *logical.FieldData, name string) (int, error) {
	n := d.Int(name)
	if n < 0 || n > maxCount {
		return 0, invalid("%s must be between 0 and %d", name, maxCount)
	}
	return n, nil
}

func invalid(format string, args ...any) error {
	return &logical.Error{Kind: logical.KindInvalidRequest,
		Msg: fmt.Sprintf(format, args...), Err: ErrInvalidConfig}
}

// LoadConfig reads the stored configuration, DefaultConfig if none was
// saved. s is the barrier (the value is plaintext above it).
func LoadConfig(ctx context.Context, s storage.Backend) (Config, error) {
	e, err := s.Get(ctx, ConfigKey)
	if errors.Is(err, storage.ErrNotFound) {
		return DefaultConfig(), nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("autopilot: load configuration: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(e.Value))
	dec.UseNumber()
	var data map[string]any
	if err := dec.Decode(&data); err != nil {
		return Config{}, fmt.Errorf("autopilot: decode stored configuration: %w", err)
	}
	c, err := ParseConfig(DefaultConfig(), data)
	if err != nil {
		return Config{}, fmt.Errorf("autopilot: stored configuration: %w", err)
	}
	return c, nil
}

// SaveConfig validates c and stores it at ConfigKey.
func SaveConfig(ctx context.Context, s storage.Backend, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("autopilot: encode configuration: %w", err)
	}
	if err := s.Put(ctx, &storage.Entry{Key: ConfigKey, Value: b}); err != nil {
		return fmt.Errorf("autopilot: save configuration: %w", err)
	}
	return nil
}
