package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// Options say how long and how wide a workload runs.
type Options struct {
	// Duration is how long each concurrency level is measured.
	Duration time.Duration
	// Warmup runs before each measurement, unrecorded, so connections,
	// caches and the Go runtime reach a steady state.
	Warmup time.Duration
	// Concurrency lists the numbers of parallel workers to sweep.
	Concurrency []int
	// Repeat measures each concurrency this many times (0 means once) and
	// reports the run with the median result, which damps the noise of a
	// shared machine.
	Repeat int
	// Progress, when set, receives a progress line about once a second.
	Progress io.Writer
	// CeilingProcess, for RunWithCeiling, is a command that serves the
	// ceiling in a child process (ServeCeiling on its stdin and stdout);
	// the child is measured too, as "ceiling-process". Nil: not measured.
	CeilingProcess []string
}

// Result is one workload measured at one concurrency.
type Result struct {
	Workload          string  `json:"workload"`
	Concurrency       int     `json:"concurrency"`
	Requests          uint64  `json:"requests"`
	Errors            uint64  `json:"errors"`
	Seconds           float64 `json:"duration_seconds"`
	RequestsPerSecond float64 `json:"requests_per_second"`
	P50ms             float64 `json:"p50_ms"`
	P95ms             float64 `json:"p95_ms"`
	P99ms             float64 `json:"p99_ms"`
	MaxMs             float64 `json:"max_ms"`
	// FirstError is the first failed request's error, if any.
	FirstError string `json:"first_error,omitempty"`
	// CeilingRatio is RequestsPerSecond over the ceiling's at the same
	// concurrency, when the ceiling was measured.
	CeilingRatio float64 `json:"ceiling_ratio,omitempty"`
	// ProcessCeilingRatio is RequestsPerSecond over the process ceiling's
	// at the same concurrency, when that was measured.
	ProcessCeilingRatio float64 `json:"process_ceiling_ratio,omitempty"`
}

// Sweep measures w against t at every concurrency in opts, in order. Setup
// and cleanup are the caller's (see RunWorkload).
func Sweep(ctx context.Context, t *Target, w Workload, opts Options) ([]Result, error) {
	if opts.Duration <= 0 || opts.Warmup < 0 || len(opts.Concurrency) == 0 {
		return nil, fmt.Errorf("%w: duration must be positive, warm-up not negative, and at least one concurrency given", ErrInvalidParams)
	}
	var out []Result
	for _, c := range opts.Concurrency {
		if c < 1 {
			return out, fmt.Errorf("%w: concurrency %d", ErrInvalidParams, c)
		}
		var runs []Result
		for range max(opts.Repeat, 1) {
			r, err := measure(ctx, t, w, c, opts)
			if err != nil {
				return out, err
			}
			runs = append(runs, r)
		}
		r := median(runs, func(r Result) float64 { return r.RequestsPerSecond })
		out = append(out, r)
	}
	return out, nil
}

// measure warms up, then measures w at concurrency c once.
func measure(ctx context.Context, t *Target, w Workload, c int, opts Options) (Result, error) {
	if opts.Warmup > 0 {
		if _, err := phase(ctx, t, w, c, opts.Warmup, opts.Progress, "warm-up"); err != nil {
			return Result{}, err
		}
	}
	return phase(ctx, t, w, c, opts.Duration, opts.Progress, "measure")
}

// median returns the run whose key is the median (the lower one of an
// even count). runs must not be empty.
func median(runs []Result, key func(Result) float64) Result {
	sorted := slices.Clone(runs)
	slices.SortStableFunc(sorted, func(a, b Result) int { return cmp.Compare(key(a), key(b)) })
	return sorted[(len(sorted)-1)/2]
}

// worker is one goroutine's tally.
type worker struct {
	hist     Histogram
	errors   uint64
	firstErr error
}

// phase runs c workers for d and summarises what they recorded.
func phase(ctx context.Context, t *Target, w Workload, c int, d time.Duration, progress io.Writer, label string) (Result, error) {
	var (
		wg       sync.WaitGroup
		sent     atomic.Uint64
		failed   atomic.Uint64
		workers  = make([]worker, c)
		start    = time.Now()
		deadline = start.Add(d)
	)
	stopProgress := startProgress(progress, func() string {
		el := time.Since(start).Truncate(time.Second)
		return fmt.Sprintf("%s c=%d %s %s/%s: %d requests, %d errors", w.Name(), c, label, el, d, sent.Load(), failed.Load())
	})
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(ctx, t, w, &workers[i], deadline, uint64(i), &sent, &failed)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("%s: %w", w.Name(), err)
	}
	return summarise(w.Name(), c, elapsed, workers), nil
}

// run sends w's requests one after another until the deadline. A request
// started before the deadline is completed and counted.
func run(ctx context.Context, t *Target, w Workload, me *worker, deadline time.Time, id uint64, sent, failed *atomic.Uint64) {
	rng := mrand.New(mrand.NewPCG(id, uint64(time.Now().UnixNano())))
	for n := uint64(0); ctx.Err() == nil; n++ {
		start := time.Now()
		if !start.Before(deadline) {
			return
		}
		op := w.Next(rng, n)
		err := t.Do(ctx, op)
		if err != nil && ctx.Err() != nil {
			return // cancelled, not a server error
		}
		me.hist.Record(time.Since(start))
		sent.Add(1)
		if err != nil {
			me.errors++
			failed.Add(1)
			if me.firstErr == nil {
				me.firstErr = err
			}
		}
	}
}

func summarise(name string, c int, elapsed time.Duration, workers []worker) Result {
	var h Histogram
	r := Result{Workload: name, Concurrency: c, Seconds: elapsed.Seconds()}
	var firstErr error
	for i := range workers {
		h.Merge(&workers[i].hist)
		r.Errors += workers[i].errors
		if firstErr == nil {
			firstErr = workers[i].firstErr
		}
	}
	r.Requests = h.Count()
	if elapsed > 0 {
		r.RequestsPerSecond = float64(r.Requests) / elapsed.Seconds()
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	r.P50ms, r.P95ms, r.P99ms, r.MaxMs = ms(h.Quantile(0.50)), ms(h.Quantile(0.95)), ms(h.Quantile(0.99)), ms(h.Max())
	if firstErr != nil {
		r.FirstError = firstErr.Error()
	}
	return r
}

// startProgress writes line() to w every second, overwriting the previous
// line, until the returned function is called; that clears the line.
func startProgress(w io.Writer, line func() string) (stop func()) {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-tick.C:
				fmt.Fprintf(w, "\r\033[K%s", line())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// RunWorkload sets w up through api, sweeps it against t and cleans up,
// also when the sweep fails or ctx is cancelled. Cleanup errors are
// joined to the returned error.
func RunWorkload(ctx context.Context, api *apiclient.Client, t *Target, w Workload, opts Options) ([]Result, error) {
	if err := w.Setup(ctx, api); err != nil {
		cerr := w.Cleanup(context.WithoutCancel(ctx), api)
		return nil, errors.Join(fmt.Errorf("%s: %w", w.Name(), err), cerr)
	}
	res, err := Sweep(ctx, t, w, opts)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if cerr := w.Cleanup(cctx, api); cerr != nil {
		err = errors.Join(err, fmt.Errorf("%s: cleanup: %w", w.Name(), cerr))
	}
	return res, err
}
