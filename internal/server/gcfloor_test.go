package server

import (
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"testing"

	"github.com/cofferdev/coffer/internal/config"
)

func gogc() uint64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestGCHeapFloorYieldsToGOGC: the configured floor raises GOGC for a
// small heap, unless GOGC is set in the environment.
func TestGCHeapFloorYieldsToGOGC(t *testing.T) {
	cfg := config.Default()
	cfg.GCHeapFloor = 1 << 30
	logger := slog.New(slog.DiscardHandler)

	t.Setenv("GOGC", "100")
	f := startGCFloor(cfg, logger)
	runtime.GC()
	if p := gogc(); p != 100 {
		t.Fatalf("GOGC set in the environment, yet the floor moved it to %d", p)
	}
	f.Stop()

	os.Unsetenv("GOGC") // t.Setenv restores it
	f = startGCFloor(cfg, logger)
	defer f.Stop()
	for range 100 {
		if gogc() > 100 {
			return
		}
		runtime.GC()
	}
	t.Fatalf("GOGC = %d with a 1 GiB floor over a small heap, want more than 100", gogc())
}
