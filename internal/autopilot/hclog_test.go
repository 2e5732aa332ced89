package autopilot

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHCLogAdapter(t *testing.T) {
	tests := []struct {
		name      string
		debug     bool // slog handler level
		log       func(hclog.Logger)
		wantLevel string // "" for no record
		wantMsg   string
		wantAttrs map[string]any
	}{
		{name: "info with fields", log: func(l hclog.Logger) { l.Info("Promoting server", "id", "node3") },
			wantLevel: "INFO", wantMsg: "autopilot: Promoting server", wantAttrs: map[string]any{"id": "node3"}},
		{name: "warn", log: func(l hclog.Logger) { l.Warn("slow") }, wantLevel: "WARN", wantMsg: "autopilot: slow"},
		{name: "error", log: func(l hclog.Logger) { l.Error("failed", "error", "boom") },
			wantLevel: "ERROR", wantMsg: "autopilot: failed", wantAttrs: map[string]any{"error": "boom"}},
		{name: "debug dropped at info level", log: func(l hclog.Logger) { l.Debug("detail") }},
		{name: "debug kept at debug level", debug: true, log: func(l hclog.Logger) { l.Debug("detail") },
			wantLevel: "DEBUG", wantMsg: "autopilot: detail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			opts := &slog.HandlerOptions{}
			if tt.debug {
				opts.Level = slog.LevelDebug
			}
			tt.log(newHCLogger(slog.New(slog.NewJSONHandler(&buf, opts))))
			if tt.wantLevel == "" {
				if buf.Len() != 0 {
					t.Fatalf("logged %s, want nothing", buf.String())
				}
				return
			}
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("not one slog JSON record: %q: %v", buf.String(), err)
			}
			if rec["level"] != tt.wantLevel || rec["msg"] != tt.wantMsg {
				t.Errorf("level %v msg %v; want %s %q", rec["level"], rec["msg"], tt.wantLevel, tt.wantMsg)
			}
			for k, v := range tt.wantAttrs {
				if rec[k] != v {
					t.Errorf("attr %s = %v, want %v", k, rec[k], v)
				}
			}
		})
	}
}

func TestSlogWriterNotJSON(t *testing.T) {
	var buf bytes.Buffer
	w := slogWriter{l: slog.New(slog.NewTextHandler(&buf, nil))}
	if n, err := w.Write([]byte("plain line\n")); err != nil || n != len("plain line\n") {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if out := buf.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, `msg="autopilot: plain line"`) {
		t.Errorf("logged %q, want a warning with the line", out)
	}
}
