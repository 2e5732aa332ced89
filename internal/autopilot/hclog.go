package autopilot

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger adapts l for the library, which logs through hclog: hclog
// writes one JSON object per line and slogWriter turns each into a slog
// record at the same level, with the line's fields as attributes.
func newHCLogger(l *slog.Logger) hclog.Logger {
	level := hclog.Info
	if l.Enabled(context.Background(), slog.LevelDebug) {
		level = hclog.Debug
	}
	return hclog.New(&hclog.LoggerOptions{Level: level, Output: slogWriter{l: l},
		JSONFormat: true, DisableTime: true})
}

// slogWriter receives hclog's JSON lines.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	var rec map[string]any
	if err := json.Unmarshal(p, &rec); err != nil {
		w.l.Warn("autopilot: " + strings.TrimSpace(string(p)))
		return len(p), nil
	}
	msg, _ := rec["@message"].(string)
	lvl, _ := rec["@level"].(string)
	attrs := make([]any, 0, 2*len(rec))
	for k, v := range rec {
		if !strings.HasPrefix(k, "@") {
			attrs = append(attrs, k, v)
		}
	}
	w.l.Log(context.Background(), slogLevel(lvl), "autopilot: "+msg, attrs...)
	return len(p), nil
}

func slogLevel(hcl string) slog.Level {
	switch hcl {
	case "trace", "debug":
		return slog.LevelDebug
	case "info":
		return slog.LevelInfo
	case "warn":
		return slog.LevelWarn
	}
	return slog.LevelError
}
