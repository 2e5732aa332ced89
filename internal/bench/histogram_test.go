package bench

import (
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"single value", []time.Duration{3 * time.Millisecond}, 0.99, 3 * time.Millisecond},
		{"exact small values", []time.Duration{1, 2, 3, 4}, 0.5, 3},
		{"median of 1..100ms", rangeMs(1, 100), 0.5, 51 * time.Millisecond},
		{"p99 of 1..100ms", rangeMs(1, 100), 0.99, 100 * time.Millisecond},
		{"p95 of 1..100ms", rangeMs(1, 100), 0.95, 96 * time.Millisecond},
		{"p0 is the minimum", rangeMs(1, 100), 0, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tt.values {
				h.Record(v)
			}
			got := h.Quantile(tt.q)
			// Buckets are 1/64 wide: accept that relative error, upwards.
			if got < tt.want || float64(got) > float64(tt.want)*(1+1.0/subBuckets) {
				t.Errorf("Quantile(%v) = %v, want %v (+1.6%%)", tt.q, got, tt.want)
			}
		})
	}
}

func TestHistogramMergeAndMax(t *testing.T) {
	var a, b Histogram
	a.Record(time.Millisecond)
	b.Record(7 * time.Second)
	b.Record(-time.Second)
	a.Merge(&b)
	if a.Count() != 3 {
		t.Errorf("Count = %d, want 3", a.Count())
	}
	if a.Max() != 7*time.Second {
		t.Errorf("Max = %v, want 7s", a.Max())
	}
	if got := a.Quantile(0); got != 0 {
		t.Errorf("negative value recorded as %v, want 0", got)
	}
}

func TestBucketBounds(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 20, 123456789, 1<<63 - 1} {
		i := bucketOf(v)
		if i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, i)
		}
		if hi := bucketHigh(i); hi < v || (i > 0 && bucketHigh(i-1) >= v) {
			t.Errorf("value %d in bucket %d with range (%d, %d]", v, i, bucketHigh(i-1), hi)
		}
	}
}

func rangeMs(from, to int) []time.Duration {
	var out []time.Duration
	for i := from; i <= to; i++ {
		out = append(out, time.Duration(i)*time.Millisecond)
	}
	return out
}
