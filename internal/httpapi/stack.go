package httpapi

// The HTTP/2 server runs every request on a new goroutine, which starts with
// a small stack. A Coffer request goes deep (router, core, engine, barrier,
// audit, hashing), so the runtime used to grow that stack two or three
// times, each time copying every frame already on it: about 7% of the
// server's CPU under load. growStack grows it once, at the top of the
// request, while there is almost nothing on it to copy.

// requestStack is the frame that makes the runtime grow the stack: with
// what is already on it, a 16 KiB stack, which a KV read with an audit sink
// does not outgrow (BENCHMARKS.md), and the largest size the runtime takes
// from its per-P stack cache rather than the heap.
const requestStack = 8 << 10

// growStack returns a byte of its frame, so the compiler cannot drop it.
//
//go:noinline
func growStack(i int) byte {
	var pad [requestStack]byte
	return pad[i&(requestStack-1)]
}
