package bench_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/bench"
)

func sampleResults() []bench.Result {
	return []bench.Result{
		{Workload: "kv-read", Concurrency: 16, Requests: 1000, RequestsPerSecond: 9876.4, P50ms: 1.2, P95ms: 2.5, P99ms: 3.1, MaxMs: 9},
		{Workload: "kv-write", Concurrency: 1, Requests: 10, Errors: 2, RequestsPerSecond: 5, FirstError: "503 sealed", CeilingRatio: 0.25},
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := bench.WriteTable(&buf, sampleResults()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"req/s", "p99 ms", "of ceiling", "9876", "25%", "kv-write c=1: 2 errors, first: 503 sealed"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	tests := []struct {
		name string
		in   []bench.Result
		want int
	}{
		{"two results", sampleResults(), 2},
		{"none is an empty array", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := bench.WriteJSON(&buf, tt.in); err != nil {
				t.Fatal(err)
			}
			var got []map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("not a JSON array: %v\n%s", err, buf.String())
			}
			if len(got) != tt.want {
				t.Fatalf("%d objects, want %d", len(got), tt.want)
			}
			for i, o := range got {
				if o["requests_per_second"] != tt.in[i].RequestsPerSecond || o["workload"] != tt.in[i].Workload {
					t.Errorf("object %d = %v", i, o)
				}
			}
		})
	}
}

func TestMedian(t *testing.T) {
	rps := func(vs ...float64) []bench.Result {
		var out []bench.Result
		for _, v := range vs {
			out = append(out, bench.Result{RequestsPerSecond: v})
		}
		return out
	}
	tests := []struct {
		name string
		runs []bench.Result
		want float64
	}{
		{"one run", rps(7), 7},
		{"odd count", rps(9, 1, 5), 5},
		{"even count takes the lower middle", rps(4, 1, 3, 2), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bench.Median(tt.runs, func(r bench.Result) float64 { return r.RequestsPerSecond })
			if got.RequestsPerSecond != tt.want {
				t.Errorf("median = %v, want %v", got.RequestsPerSecond, tt.want)
			}
		})
	}
}
