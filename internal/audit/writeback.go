package audit

import (
	"os"
	"sync"
	"sync/atomic"
)

// writebackChunk is how much a file sink appends between two writeback
// rounds (fileDest.write).
const writebackChunk = 8 << 20

// writeback keeps what a file sink has written moving to disk and out of the
// page cache. Left to itself, the kernel lets an audit file's pages sit
// dirty for up to 30 seconds and then keeps them cached: on a busy server
// that is gigabytes of dirty and cached log no one reads back, and the
// kernel's cost of each append write(2) grows with them (BENCHMARKS.md,
// "Audit writes and the page cache"). So, every writebackChunk bytes, the
// file sink hands the range written since the last round to a background
// goroutine, which starts its writeback and then, once the previous round's
// range is on disk, drops that range from the page cache. At most two
// chunks of the log are then unwritten or cached because of the sink.
//
// All of it is advice to the kernel: errors are ignored (a file system may
// not support it), and a file that is not a regular file is left alone.
// Its fields but running and busy are guarded by the sink's lock.
type writeback struct {
	chunk int64
	// started is where the range of the next round starts: every byte
	// before it was handed to a round.
	started int64
	// dropFrom is where the range still to be dropped starts; the range
	// ends at started.
	dropFrom int64
	running  atomic.Bool // a round is running
	busy     sync.WaitGroup
}

// reset starts over for a newly opened file of the given size.
func (w *writeback) reset(size int64) {
	if w.chunk == 0 {
		w.chunk = writebackChunk
	}
	w.started, w.dropFrom = size, size
}

// wrote is called after every append that left the file at size; it starts
// a round when a chunk has been written since the last one, unless a round
// is still running (the next append will try again).
func (w *writeback) wrote(f *os.File, size int64) {
	if size-w.started < w.chunk || !w.running.CompareAndSwap(false, true) {
		return
	}
	r := writebackRound{start: w.started, end: size, dropFrom: w.dropFrom}
	w.dropFrom, w.started = w.started, size
	w.busy.Add(1)
	go func() {
		defer w.busy.Done()
		defer w.running.Store(false)
		r.run(f)
	}()
}

// wait returns once no round is running.
func (w *writeback) wait() { w.busy.Wait() }

// writebackRound starts writeback of [start, end) and drops [dropFrom,
// start) from the page cache once it is on disk.
type writebackRound struct {
	start, end, dropFrom int64
}

func (r writebackRound) run(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	// Control holds a reference to the file: a concurrent close (rotation)
	// waits for it, so fd is never another file's.
	_ = rc.Control(func(fd uintptr) {
		startWriteback(int(fd), r.start, r.end-r.start)
		if r.start > r.dropFrom {
			dropCached(int(fd), r.dropFrom, r.start-r.dropFrom)
		}
	})
}
