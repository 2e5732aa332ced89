package audit

import (
	"errors"
	"testing"
	"time"
)

func TestParseSinkConfig(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		opts    map[string]string
		check   func(SinkConfig) bool
		wantErr bool
	}{
		{"file defaults", "file", map[string]string{"path": "/x"}, func(c SinkConfig) bool {
			return c.Mode == Required && c.HMACAccessor && !c.LogRaw && c.FileMode == 0o600 &&
				c.CheckpointEntries == DefaultCheckpointEntries && c.Name == "file"
		}, false},
		{"best-effort", "file", map[string]string{"path": "/x", "mode": "best-effort"}, func(c SinkConfig) bool { return c.Mode == BestEffort }, false},
		{"octal mode is file permissions", "file", map[string]string{"path": "/x", "mode": "0640"}, func(c SinkConfig) bool { return c.FileMode == 0o640 && c.Mode == Required }, false},
		{"socket", "socket", map[string]string{"address": "127.0.0.1:9", "write_timeout": "3s", "hmac_accessor": "false"}, func(c SinkConfig) bool {
			return c.SocketType == "tcp" && c.WriteTimeout == 3*time.Second && !c.HMACAccessor
		}, false},
		{"checkpoints", "stdout", map[string]string{"checkpoint_entries": "5", "checkpoint_interval": "2s", "log_raw": "true"}, func(c SinkConfig) bool {
			return c.CheckpointEntries == 5 && c.CheckpointInterval == 2*time.Second && c.LogRaw
		}, false},
		{"headers", "stdout", map[string]string{"headers": "user-agent, X-Request-ID"}, func(c SinkConfig) bool {
			return len(c.Headers) == 2 && c.Headers[0] == "User-Agent" && c.Headers[1] == "X-Request-Id"
		}, false},
		{"token header refused", "stdout", map[string]string{"headers": "x-vault-token"}, nil, true},
		{"file without path", "file", nil, nil, true},
		{"socket bad type", "socket", map[string]string{"address": "x:1", "socket_type": "p u"}, nil, true},
		{"bad mode", "socket", map[string]string{"address": "x:1", "mode": "0600"}, nil, true},
		{"zero entries", "stdout", map[string]string{"checkpoint_entries": "0"}, nil, true},
		{"unknown option", "stdout", map[string]string{"colour": "red"}, nil, true},
		{"unknown type", "syslog", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseSinkConfig(tt.typ, "", tt.opts)
			if tt.wantErr {
				if !errors.Is(err, ErrBadConfig) {
					t.Fatalf("err = %v, want ErrBadConfig", err)
				}
				return
			}
			if err != nil || !tt.check(c) {
				t.Fatalf("got %+v, %v", c, err)
			}
		})
	}
}
