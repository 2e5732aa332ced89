package autopilot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

func decodeJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

func TestParseConfig(t *testing.T) {
	def := DefaultConfig()
	withCleanup := def
	withCleanup.CleanupDeadServers, withCleanup.MinQuorum = true, 5
	tests := []struct {
		name    string
		current Config
		body    string
		want    Config
		wantErr string
	}{
		{name: "empty body keeps current", current: def, body: `{}`, want: def},
		{name: "duration strings", current: def,
			body: `{"last_contact_threshold":"5s","dead_server_last_contact_threshold":"2h","server_stabilization_time":"1m30s"}`,
			want: Config{DeadServerLastContactThreshold: 2 * time.Hour, LastContactThreshold: 5 * time.Second,
				MaxTrailingLogs: 1000, ServerStabilizationTime: 90 * time.Second}},
		{name: "durations as seconds", current: def,
			body: `{"last_contact_threshold":7,"dead_server_last_contact_threshold":"120","server_stabilization_time":30}`,
			want: Config{DeadServerLastContactThreshold: 2 * time.Minute, LastContactThreshold: 7 * time.Second,
				MaxTrailingLogs: 1000, ServerStabilizationTime: 30 * time.Second}},
		{name: "cleanup on defaults min_quorum to 3", current: def, body: `{"cleanup_dead_servers":true}`,
			want: func() Config { c := def; c.CleanupDeadServers, c.MinQuorum = true, 3; return c }()},
		{name: "strings for bool and ints", current: def,
			body: `{"cleanup_dead_servers":"true","min_quorum":"5","max_trailing_logs":"250"}`,
			want: func() Config { c := withCleanup; c.MaxTrailingLogs = 250; return c }()},
		{name: "cleanup off keeps min_quorum", current: withCleanup, body: `{"cleanup_dead_servers":false}`,
			want: func() Config { c := withCleanup; c.CleanupDeadServers = false; return c }()},
		{name: "zero values keep current", current: withCleanup,
			body: `{"last_contact_threshold":"0s","min_quorum":0,"max_trailing_logs":0,"server_stabilization_time":""}`,
			want: withCleanup},
		{name: "disable_upgrade_migration accepted", current: def, body: `{"disable_upgrade_migration":true}`, want: def},
		{name: "unknown field", current: def, body: `{"cleanup_dead_server":true}`,
			wantErr: "unknown field(s): cleanup_dead_server"},
		{name: "min_quorum below 3 with cleanup", current: def, body: `{"cleanup_dead_servers":true,"min_quorum":2}`,
			wantErr: "min_quorum must be at least 3"},
		{name: "dead threshold below a minute", current: def, body: `{"dead_server_last_contact_threshold":"30s"}`,
			wantErr: "dead_server_last_contact_threshold must be at least 1m0s"},
		{name: "bad duration", current: def, body: `{"last_contact_threshold":"soon"}`,
			wantErr: `field "last_contact_threshold"`},
		{name: "negative duration", current: def, body: `{"server_stabilization_time":-5}`,
			wantErr: `field "server_stabilization_time"`},
		{name: "negative count", current: def, body: `{"max_trailing_logs":-1}`,
			wantErr: "max_trailing_logs must be between 0 and"},
		{name: "count not an integer", current: def, body: `{"min_quorum":3.5}`, wantErr: `field "min_quorum"`},
		{name: "bool of the wrong type", current: def, body: `{"cleanup_dead_servers":[true]}`,
			wantErr: `field "cleanup_dead_servers"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig(tt.current, decodeJSON(t, tt.body))
			if tt.wantErr != "" {
				checkInvalid(t, err, tt.wantErr)
				if got != tt.current {
					t.Errorf("config on error = %+v, want the current one %+v", got, tt.current)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func checkInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	if !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("error %v does not wrap ErrInvalidConfig", err)
	}
	if k := logical.KindOf(err); k != logical.KindInvalidRequest {
		t.Errorf("error kind = %v, want KindInvalidRequest", k)
	}
}

// TestParseConfigOfficialClient feeds ParseConfig the body the official
// Vault client sends (every field, zero durations for unset ones) and
// decodes Map with the client's own decoder.
func TestParseConfigOfficialClient(t *testing.T) {
	body, err := json.Marshal(&vaultapi.AutopilotConfig{CleanupDeadServers: true, MinQuorum: 5,
		ServerStabilizationTime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseConfig(DefaultConfig(), decodeJSON(t, string(body)))
	if err != nil {
		t.Fatalf("ParseConfig(%s): %v", body, err)
	}
	want := DefaultConfig()
	want.CleanupDeadServers, want.MinQuorum, want.ServerStabilizationTime = true, 5, time.Minute
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	out, err := json.Marshal(got.Map())
	if err != nil {
		t.Fatal(err)
	}
	var back vaultapi.AutopilotConfig
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("client decoding %s: %v", out, err)
	}
	wantBack := vaultapi.AutopilotConfig{CleanupDeadServers: true, LastContactThreshold: 10 * time.Second,
		DeadServerLastContactThreshold: 24 * time.Hour, MaxTrailingLogs: 1000, MinQuorum: 5,
		ServerStabilizationTime: time.Minute}
	if back != wantBack {
		t.Errorf("client decoded %+v, want %+v", back, wantBack)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"defaults", func(*Config) {}, ""},
		{"cleanup with min_quorum 3", func(c *Config) { c.CleanupDeadServers, c.MinQuorum = true, 3 }, ""},
		{"cleanup without min_quorum", func(c *Config) { c.CleanupDeadServers = true }, "min_quorum"},
		{"zero contact threshold", func(c *Config) { c.LastContactThreshold = 0 }, "last_contact_threshold"},
		{"zero stabilization", func(c *Config) { c.ServerStabilizationTime = 0 }, "server_stabilization_time"},
		{"zero trailing logs", func(c *Config) { c.MaxTrailingLogs = 0 }, "max_trailing_logs"},
		{"short dead threshold", func(c *Config) { c.DeadServerLastContactThreshold = time.Second },
			"dead_server_last_contact_threshold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			checkInvalid(t, err, tt.wantErr)
		})
	}
}

func TestConfigWithDefaults(t *testing.T) {
	got := Config{CleanupDeadServers: true}.withDefaults()
	want := DefaultConfig()
	want.CleanupDeadServers, want.MinQuorum = true, 3
	if got != want {
		t.Errorf("zero config with cleanup: got %+v, want %+v", got, want)
	}
	custom := Config{DeadServerLastContactThreshold: time.Hour, LastContactThreshold: time.Second,
		MaxTrailingLogs: 5, MinQuorum: 4, ServerStabilizationTime: time.Minute}
	if got := custom.withDefaults(); got != custom {
		t.Errorf("complete config changed: got %+v, want %+v", got, custom)
	}
}

func TestLoadSaveConfig(t *testing.T) {
	ctx := context.Background()
	custom := Config{CleanupDeadServers: true, DeadServerLastContactThreshold: 90 * time.Minute,
		LastContactThreshold: 3 * time.Second, MaxTrailingLogs: 42, MinQuorum: 5,
		ServerStabilizationTime: 45 * time.Second}
	tests := []struct {
		name    string
		stored  []byte // raw value at ConfigKey, nil for none
		save    *Config
		want    Config
		wantErr bool
	}{
		{name: "nothing stored gives defaults", want: DefaultConfig()},
		{name: "saved config round-trips", save: &custom, want: custom},
		{name: "defaults round-trip", save: func() *Config { c := DefaultConfig(); return &c }(), want: DefaultConfig()},
		{name: "corrupt value", stored: []byte("{not json"), wantErr: true},
		{name: "stored value breaking the rules", stored: []byte(`{"cleanup_dead_servers":true,"min_quorum":1}`), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := inmem.New()
			if tt.stored != nil {
				if err := s.Put(ctx, &storage.Entry{Key: ConfigKey, Value: tt.stored}); err != nil {
					t.Fatal(err)
				}
			}
			if tt.save != nil {
				if err := SaveConfig(ctx, s, *tt.save); err != nil {
					t.Fatalf("SaveConfig: %v", err)
				}
			}
			got, err := LoadConfig(ctx, s)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("LoadConfig = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSaveConfigRejectsInvalid(t *testing.T) {
	ctx := context.Background()
	s := inmem.New()
	bad := DefaultConfig()
	bad.CleanupDeadServers = true // min_quorum 0
	checkInvalid(t, SaveConfig(ctx, s, bad), "min_quorum")
	if _, err := s.Get(ctx, ConfigKey); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("invalid config was stored (Get: %v)", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"cleanup_dead_servers":true,"min_quorum":3}`,
		`{"last_contact_threshold":"10s","dead_server_last_contact_threshold":86400}`,
		`{"max_trailing_logs":"1000","server_stabilization_time":"3d"}`,
		`{"cleanup_dead_servers":"yes"}`,
		`{"min_quorum":-3,"extra":1}`,
		`{"last_contact_threshold":1e400}`,
		`{"disable_upgrade_migration":false,"max_trailing_logs":18446744073709551615}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var data map[string]any
		if err := dec.Decode(&data); err != nil {
			return
		}
		got, err := ParseConfig(DefaultConfig(), data)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) || logical.KindOf(err) != logical.KindInvalidRequest {
				t.Fatalf("error %v is not an invalid-config request error", err)
			}
			if got != DefaultConfig() {
				t.Fatalf("config changed on error: %+v", got)
			}
			return
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("accepted config does not validate: %+v: %v", got, err)
		}
		out, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseConfig(DefaultConfig(), decodeJSON(t, string(out)))
		if err != nil || back != got {
			t.Fatalf("round trip of %s: %+v, %v; want %+v", out, back, err, got)
		}
	})
}
