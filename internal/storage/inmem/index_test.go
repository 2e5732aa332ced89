package inmem

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkIndex fails t unless x holds exactly the sorted keys of model and
// keeps its structural invariants.
func checkIndex(t *testing.T, x *index, model map[string]bool) {
	t.Helper()
	var flat []string
	for i, l := range x.leaves {
		if len(l) == 0 || len(l) > maxLeaf {
			t.Fatalf("leaf %d has %d keys, want 1..%d", i, len(l), maxLeaf)
		}
		if !slices.IsSorted(l) {
			t.Fatalf("leaf %d is not sorted", i)
		}
		flat = append(flat, l...)
	}
	want := make([]string, 0, len(model))
	for k := range model {
		want = append(want, k)
	}
	slices.Sort(want)
	if !slices.Equal(flat, want) {
		t.Fatalf("index holds %d keys (sorted=%v), model %d", len(flat), slices.IsSorted(flat), len(want))
	}
}

// checkSeek fails t unless seeking probe lands on the first model key >= probe.
func checkSeek(t *testing.T, x *index, sorted []string, probe string) {
	t.Helper()
	i, _ := slices.BinarySearch(sorted, probe)
	got, ok := x.at(x.seek(probe))
	switch {
	case i == len(sorted) && ok:
		t.Fatalf("seek(%q) = %q, want end", probe, got)
	case i < len(sorted) && (!ok || got != sorted[i]):
		t.Fatalf("seek(%q) = %q, %v; want %q", probe, got, ok, sorted[i])
	}
}

func TestIndexRandomOps(t *testing.T) {
	tests := []struct {
		name     string
		keySpace int
		ops      int
		insertP  float64 // chance an op inserts rather than removes
	}{
		{"small", 20, 2000, 0.5},
		{"grow past many splits", 6000, 20000, 0.8},
		{"churn", 3000, 30000, 0.5},
		{"shrink to empty", 2000, 12000, 0.2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.keySpace)))
			var x index
			model := map[string]bool{}
			if tc.insertP < 0.5 { // start full so removals have work to do
				for k := range tc.keySpace {
					key := fmt.Sprintf("k%06d", k)
					x.insert(key)
					model[key] = true
				}
			}
			for op := range tc.ops {
				key := fmt.Sprintf("k%06d", rng.IntN(tc.keySpace))
				if rng.Float64() < tc.insertP {
					x.insert(key)
					model[key] = true
				} else {
					x.remove(key)
					delete(model, key)
				}
				if op%997 == 0 {
					checkIndex(t, &x, model)
				}
			}
			checkIndex(t, &x, model)
			sorted := slices.Sorted(func(yield func(string) bool) {
				for k := range model {
					if !yield(k) {
						return
					}
				}
			})
			for range 200 {
				checkSeek(t, &x, sorted, fmt.Sprintf("k%06d", rng.IntN(tc.keySpace+10)))
			}
			checkSeek(t, &x, sorted, "")
			checkSeek(t, &x, sorted, "z")
		})
	}
}

func TestIndexWalk(t *testing.T) {
	const n = 3000
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("%05d", i)
	}
	ascending, descending := make([]int, n), make([]int, n)
	for i := range n {
		ascending[i], descending[i] = i, n-1-i
	}
	tests := []struct {
		name  string
		order []int
	}{
		{"ascending", ascending},
		{"descending", descending},
		{"random", rand.New(rand.NewPCG(7, 7)).Perm(n)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var x index
			for _, i := range tc.order {
				x.insert(want[i])
			}
			x.insert(want[0]) // duplicate insert is a no-op
			x.remove("absent")
			var got []string
			for p := x.seek(""); ; p = x.next(p) {
				k, ok := x.at(p)
				if !ok {
					break
				}
				got = append(got, k)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("walk visited %d keys, want %d in order", len(got), len(want))
			}
			if len(x.leaves) < n/maxLeaf {
				t.Fatalf("%d keys fit in %d leaves, splits never happened", n, len(x.leaves))
			}
		})
	}
}
