// Package gcfloor keeps the garbage collector's heap goal at least a floor
// above the live heap, so a server with a small heap does not collect
// dozens of times a second.
//
// Go sets the next heap goal to the live heap times 1+GOGC/100, and never
// below 4 MiB. Coffer's live heap is often 1–2 MiB, so under load it ran a
// collection every 20 ms or so; each one stops the world twice, turns on
// write barriers and takes a quarter of the CPU while it marks. With a
// floor, the goal is live + max(live, floor): the default GOGC=100
// behaviour once the live heap passes the floor, and at most floor bytes
// of extra heap before then.
package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// liveHeap is the runtime metric the goal is derived from: heap bytes
// marked live by the last collection.
const liveHeap = "/gc/heap/live:bytes"

// maxPercent bounds the GOGC the floor sets, against a live heap measured
// as nearly empty.
const maxPercent = 1 << 20

// Floor is a running adjustment; Stop ends it.
type Floor struct {
	floor uint64
	base  int // the GOGC in force before Start, restored by Stop

	mu      sync.Mutex
	stopped bool
	percent int // the GOGC last set
	sample  []metrics.Sample
}

// Start sets GOGC so the heap goal stays floor bytes above the live heap
// (or twice it, once it is larger), and re-derives it after every
// collection. The caller must not change GOGC while it runs. floor 0 does
// nothing.
func Start(floor uint64) *Floor {
	f := &Floor{floor: floor, sample: []metrics.Sample{{Name: liveHeap}}}
	if floor == 0 {
		f.stopped = true
		return f
	}
	f.base = debug.SetGCPercent(100)
	f.percent = 100
	f.mu.Lock()
	f.adjust()
	f.mu.Unlock()
	f.watch()
	return f
}

// Percent is the GOGC the floor set last (100 before any adjustment).
func (f *Floor) Percent() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.percent
}

// Stop ends the adjustment and restores the GOGC that was in force before
// Start.
func (f *Floor) Stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	f.stopped = true
	debug.SetGCPercent(f.base)
}

// watch arranges for afterGC to run once the next collection has found a
// fresh sentinel unreachable, that is, after every collection in turn.
func (f *Floor) watch() {
	// A pointer-bearing object: never batched by the tiny allocator, whose
	// blocks may outlive their contents.
	sentinel := &struct{ _ *Floor }{}
	runtime.AddCleanup(sentinel, (*Floor).afterGC, f)
}

func (f *Floor) afterGC() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return
	}
	f.adjust()
	f.watch()
}

// adjust sets GOGC from the live heap the last collection measured.
func (f *Floor) adjust() {
	metrics.Read(f.sample)
	if f.sample[0].Value.Kind() != metrics.KindUint64 || f.sample[0].Value.Uint64() == 0 {
		return // no collection yet, or a runtime without the metric
	}
	p := percentFor(f.sample[0].Value.Uint64(), f.floor)
	if p != f.percent {
		debug.SetGCPercent(p)
		f.percent = p
	}
}

// runtimeMinimum is the runtime's smallest heap goal at GOGC=100; it scales
// with GOGC, so a large GOGC raises the minimum as well as the multiple.
const runtimeMinimum = 4 << 20

// percentFor is the GOGC that puts the goal at live + max(live, floor):
// the runtime's goal is the larger of live*(1+GOGC/100) and
// runtimeMinimum*GOGC/100, and neither may pass live + floor.
func percentFor(live, floor uint64) int {
	if floor <= live {
		return 100
	}
	goal := live + floor
	p := goal * 100 / runtimeMinimum
	if live > 0 {
		p = min(p, floor*100/live)
	}
	return int(max(100, min(p, maxPercent)))
}
