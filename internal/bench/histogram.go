package bench

import (
	"math/bits"
	"time"
)

// Histogram records latencies in log-linear buckets: values below
// subBuckets nanoseconds are exact; above, each power of two is split into
// subBuckets buckets, so a reported quantile is within 1/subBuckets (1.6%)
// of the true value. The zero value is ready to use; it is not safe for
// concurrent use (each worker records into its own and they are merged).
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	max    time.Duration
}

const (
	subBucketBits = 6
	subBuckets    = 1 << subBucketBits
	// numBuckets covers every non-negative int64 value.
	numBuckets = subBuckets + (63-subBucketBits)*subBuckets
)

// bucketOf returns the bucket index of v nanoseconds.
func bucketOf(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - subBucketBits - 1
	mant := v >> shift // in [subBuckets, 2*subBuckets)
	return subBuckets + shift*subBuckets + int(mant-subBuckets)
}

// bucketHigh returns the largest value that falls in bucket i.
func bucketHigh(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	shift := (i - subBuckets) / subBuckets
	mant := uint64(i-subBuckets)%subBuckets + subBuckets
	return (mant+1)<<shift - 1
}

// Record adds one latency; negative values count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	if o.max > h.max {
		h.max = o.max
	}
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest recorded value, exactly.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the value at or below which a fraction q (0..1) of the
// recorded values lie, as the upper edge of its bucket capped at Max. It
// returns zero when nothing was recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if rank >= h.n {
		rank = h.n - 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen > rank {
			v := time.Duration(bucketHigh(i))
			return min(v, h.max)
		}
	}
	return h.max
}
