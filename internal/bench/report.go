package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// MaxConcurrency bounds one entry of a concurrency list.
const MaxConcurrency = 4096

// ParseConcurrency parses a comma-separated list of worker counts such as
// "1,16,64". Spaces around entries are allowed; every entry must be an
// integer in 1..MaxConcurrency, and the list must not be empty.
func ParseConcurrency(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		n, err := strconv.Atoi(part)
		if err != nil || n < 1 || n > MaxConcurrency {
			return nil, fmt.Errorf("%w: concurrency %q: want a comma-separated list of integers in 1..%d", ErrInvalidParams, part, MaxConcurrency)
		}
		out = append(out, n)
	}
	return out, nil
}

// WriteTable prints results as an aligned table, one row per workload and
// concurrency, followed by the first error of each row that had errors.
func WriteTable(w io.Writer, results []Result) error {
	withRatio, withProcess := false, false
	for _, r := range results {
		withRatio = withRatio || r.CeilingRatio > 0
		withProcess = withProcess || r.ProcessCeilingRatio > 0
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "workload\tconcurrency\treq/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\terrors\t"
	if withRatio {
		head += "of ceiling\t"
	}
	if withProcess {
		head += "of process ceiling\t"
	}
	fmt.Fprintln(tw, head)
	for _, r := range results {
		line := fmt.Sprintf("%s\t%d\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t",
			r.Workload, r.Concurrency, r.RequestsPerSecond, r.P50ms, r.P95ms, r.P99ms, r.MaxMs, r.Errors)
		if withRatio {
			line += ratioCell(r.CeilingRatio) + "\t"
		}
		if withProcess {
			line += ratioCell(r.ProcessCeilingRatio) + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	for _, r := range results {
		if r.FirstError != "" {
			fmt.Fprintf(w, "%s c=%d: %d errors, first: %s\n", r.Workload, r.Concurrency, r.Errors, r.FirstError)
		}
	}
	return nil
}

func ratioCell(ratio float64) string {
	if ratio == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*ratio)
}

// WriteJSON prints results as a JSON array, one object per workload and
// concurrency.
func WriteJSON(w io.Writer, results []Result) error {
	if results == nil {
		results = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(results); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
