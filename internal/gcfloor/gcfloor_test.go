package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercentFor(t *testing.T) {
	for _, c := range []struct {
		live, floor uint64
		want        int
	}{
		// The runtime's minimum (4 MiB, scaled by GOGC) binds: 8.25 MiB
		// more than 4 MiB at 825 is the 33 MiB goal.
		{live: 1 << 20, floor: 32 << 20, want: 825},
		{live: 0, floor: 32 << 20, want: 800},
		// The multiple binds: 2 GiB live, 32 GiB floor.
		{live: 2 << 30, floor: 32 << 30, want: 1600},
		{live: 32 << 20, floor: 32 << 20, want: 100},
		{live: 1 << 30, floor: 32 << 20, want: 100},
		// A floor under the runtime's own minimum changes nothing.
		{live: 1 << 20, floor: 2 << 20, want: 100},
		{live: 1, floor: 1 << 60, want: maxPercent},
	} {
		if got := percentFor(c.live, c.floor); got != c.want {
			t.Errorf("percentFor(%d, %d) = %d, want %d", c.live, c.floor, got, c.want)
		}
	}
}

func read(t *testing.T, name string) uint64 {
	t.Helper()
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("metric %s unknown", name)
	}
	return s[0].Value.Uint64()
}

// collectUntil runs collections until ok holds (the adjustment runs just
// after a collection, on the cleanup goroutine) or gives up.
func collectUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for range 200 {
		runtime.GC()
		if ok() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("never: %s (GOGC %d, live %d, goal %d)", what,
		read(t, "/gc/gogc:percent"), read(t, liveHeap), read(t, "/gc/heap/goal:bytes"))
}

// TestFloorRaisesTheGoalAndStopRestores: with a small live heap, the heap
// goal ends up at least the floor above it; Stop puts back the GOGC that
// was set before.
func TestFloorRaisesTheGoalAndStopRestores(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	const floor = 256 << 20
	f := Start(floor)
	collectUntil(t, "the goal is the floor above the live heap", func() bool {
		goal, live := read(t, "/gc/heap/goal:bytes"), read(t, liveHeap)
		return goal >= live+floor*9/10 && goal <= live+floor*11/10
	})
	if p := read(t, "/gc/gogc:percent"); p <= 100 || int(p) != f.Percent() {
		t.Fatalf("GOGC = %d, Percent() = %d; want the same value above 100", p, f.Percent())
	}
	f.Stop()
	f.Stop()
	if p := read(t, "/gc/gogc:percent"); p != 150 {
		t.Fatalf("GOGC after Stop = %d, want the 150 set before Start", p)
	}
	runtime.GC()
	runtime.GC()
	if p := read(t, "/gc/gogc:percent"); p != 150 {
		t.Fatalf("GOGC changed after Stop: %d", p)
	}
}

// TestFloorStepsAsideForALargeHeap: once the live heap passes the floor,
// GOGC is back at 100, the runtime's own pacing.
func TestFloorStepsAsideForALargeHeap(t *testing.T) {
	const floor = 8 << 20
	f := Start(floor)
	defer f.Stop()
	collectUntil(t, "GOGC above 100 while the heap is small", func() bool { return f.Percent() > 100 })
	big := make([][]byte, 64)
	for i := range big {
		big[i] = make([]byte, 1<<20)
	}
	collectUntil(t, "GOGC back at 100 with 64 MiB live", func() bool {
		return read(t, "/gc/gogc:percent") == 100 && f.Percent() == 100
	})
	runtime.KeepAlive(big)
	clear(big) // the 64 MiB is garbage now
	collectUntil(t, "GOGC above 100 again once the heap shrank", func() bool { return f.Percent() > 100 })
}

func TestZeroFloorChangesNothing(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(120))
	f := Start(0)
	runtime.GC()
	if p := read(t, "/gc/gogc:percent"); p != 120 {
		t.Fatalf("GOGC = %d, want 120 untouched", p)
	}
	f.Stop()
	if p := read(t, "/gc/gogc:percent"); p != 120 {
		t.Fatalf("GOGC after Stop = %d, want 120 untouched", p)
	}
}
