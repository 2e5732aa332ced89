package hatest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/cofferdev/coffer/internal/testcluster"
)

// regInput is one operation on the register (one KV v2 secret): a write
// of value, or a read.
type regInput struct {
	write bool
	value string
}

// registerModel is a single register that starts empty: a write sets it,
// a read returns it. KV v2 reads the latest version, so a secret written
// through the Vault API behaves as one.
var registerModel = porcupine.Model{
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		in := input.(regInput)
		if in.write {
			return true, in.value
		}
		return output.(string) == state.(string), state
	},
	Equal: func(a, b any) bool { return a == b },
	DescribeOperation: func(input, output any) string {
		in := input.(regInput)
		if in.write {
			return "write " + in.value
		}
		return fmt.Sprintf("read -> %q", output)
	},
}

// neverReturned is porcupine's return time for an operation whose outcome
// is unknown: it may take effect at any point after its call.
const neverReturned = int64(1) << 62

// checkTimeout bounds the linearizability check.
const checkTimeout = 60 * time.Second

// failBackoff is how long a register client waits after a failed write.
const failBackoff = 100 * time.Millisecond

// registerRecorder collects a register history over HTTP.
type registerRecorder struct {
	start   time.Time
	mu      sync.Mutex
	history []porcupine.Operation
	seq     atomic.Int64
	// ackedBy counts acknowledged writes per node.
	ackedBy []atomic.Int64
}

func (r *registerRecorder) now() int64 { return int64(time.Since(r.start)) }

func (r *registerRecorder) add(op porcupine.Operation) {
	r.mu.Lock()
	r.history = append(r.history, op)
	r.mu.Unlock()
}

// registerLoad runs perNode clients bound to each node, each writing
// increasing values to secret/<key> or reading it (a default, consistent
// read) at random, until ctx ends. Requests time out after reqTimeout.
// Writes refused outright are left out (they had no effect); writes with
// an unknown outcome never return; failed reads observed nothing.
func registerLoad(ctx context.Context, c *cluster, perNode int, key string, reqTimeout time.Duration) (*registerRecorder, chan struct{}) {
	rec := &registerRecorder{start: time.Now(), ackedBy: make([]atomic.Int64, c.size())}
	var wg sync.WaitGroup
	id := 0
	for node := range c.size() {
		for range perNode {
			cl := testcluster.NewClient(c.t, c.layout.URL(node), c.layout.TLS.CAFile, c.rootToken)
			cl.SetClientTimeout(reqTimeout)
			wg.Add(1)
			go func(client int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(client), 11))
				for ctx.Err() == nil {
					op := porcupine.Operation{ClientId: client, Call: rec.now()}
					if rng.IntN(2) == 0 {
						v := fmt.Sprintf("v%d", rec.seq.Add(1))
						op.Input, op.Output = regInput{write: true, value: v}, ""
						switch classify(put(ctx, cl, key, v)) {
						case acked:
							op.Return = rec.now()
							rec.ackedBy[node].Add(1)
						case refused:
							time.Sleep(failBackoff)
							continue
						case unknown:
							// Each open write multiplies the checker's work:
							// back off rather than pile them up.
							op.Return = neverReturned
							time.Sleep(failBackoff)
						}
					} else {
						v, err := get(ctx, cl, key)
						if err != nil {
							continue
						}
						op.Input, op.Output, op.Return = regInput{}, v, rec.now()
					}
					rec.add(op)
				}
			}(id)
			id++
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return rec, done
}

// checkLinearizable fails the test unless the history is linearizable.
func (r *registerRecorder) checkLinearizable(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	raw := append([]porcupine.Operation(nil), r.history...)
	r.mu.Unlock()
	acks, reads, unknowns := 0, 0, 0
	for _, op := range raw {
		switch {
		case !op.Input.(regInput).write:
			reads++
		case op.Return == neverReturned:
			unknowns++
		default:
			acks++
		}
	}
	if acks == 0 || reads == 0 {
		t.Fatalf("history has %d acknowledged writes and %d reads; the check would be vacuous", acks, reads)
	}
	history := resolveUnknown(append([]porcupine.Operation(nil), raw...))
	began := time.Now()
	res, info := porcupine.CheckOperationsVerbose(registerModel, history, checkTimeout)
	t.Logf("%d reads, %d acknowledged writes, %d writes of unknown outcome (%d never observed, left out): %v in %v",
		reads, acks, unknowns, len(raw)-len(history), res, time.Since(began).Round(time.Millisecond))
	if res == porcupine.Unknown {
		t.Fatalf("the checker gave up after %v on a history of %d operations: neither proved nor disproved", checkTimeout, len(history))
	}
	if res != porcupine.Ok {
		if dir := os.Getenv("HATEST_LOG_DIR"); dir != "" {
			path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-history.html")
			if err := porcupine.VisualizePath(registerModel, info, path); err == nil {
				t.Logf("history visualized in %s", path)
			}
		}
		stale := staleReads(raw, 5)
		for _, s := range stale {
			t.Log(s)
		}
		if len(stale) == 0 {
			t.Log("no read returned a value certainly older than one already visible; the violation has another shape (set HATEST_LOG_DIR for a picture)")
		}
		t.Fatalf("the register's history of %d operations is not linearizable (%v)", len(history), res)
	}
}

// staleReads explains up to limit reads that returned a value certainly
// older than one already visible when the read was sent: a value is
// certainly older than b when its write had taken effect before b's write
// was sent, and b is visible once its write was acknowledged or a read
// returned it. An unknown write took effect before the first read that
// returned it. history is as recorded (unknown writes never return).
// Times are since the workload started. Violations of other shapes are
// left to the checker's verdict.
func staleReads(history []porcupine.Operation, limit int) []string {
	writes := map[string]porcupine.Operation{}
	effect := map[string]int64{} // when each write had certainly taken effect
	for _, op := range history {
		if in := op.Input.(regInput); in.write {
			writes[in.value] = op
			effect[in.value] = op.Return
		}
	}
	// visible[b] is when b was first known to be there.
	visible := map[string]porcupine.Operation{}
	note := func(v string, op porcupine.Operation) {
		if seen, ok := visible[v]; !ok || op.Return < seen.Return {
			visible[v] = op
		}
	}
	for _, op := range history {
		if in := op.Input.(regInput); in.write {
			if op.Return != neverReturned {
				note(in.value, op)
			}
			continue
		}
		v := op.Output.(string)
		note(v, op)
		if w, ok := writes[v]; ok && op.Return < effect[v] && op.Return >= w.Call {
			effect[v] = op.Return
		}
	}
	var out []string
	for _, rd := range history {
		if rd.Input.(regInput).write || len(out) >= limit {
			continue
		}
		got := rd.Output.(string)
		took, written := effect[got]
		for b, seen := range visible {
			wb, ok := writes[b]
			if !ok || seen.Return >= rd.Call || (written && wb.Call <= took) {
				continue
			}
			how := fmt.Sprintf("acknowledged at %v", time.Duration(seen.Return))
			if !seen.Input.(regInput).write {
				how = fmt.Sprintf("read by client %d at %v", seen.ClientId, time.Duration(seen.Return))
			}
			out = append(out, fmt.Sprintf("stale read: client %d read %q during [%v, %v], but %q (written by client %d from %v) was %s",
				rd.ClientId, got, time.Duration(rd.Call), time.Duration(rd.Return), b, wb.ClientId, time.Duration(wb.Call), how))
			break
		}
	}
	return out
}

// resolveUnknown narrows the writes of unknown outcome, which make the
// check exponential, without changing its verdict (values are unique):
// a write no read observed is dropped (if it took effect, something
// overwrote it unseen, so a linearization without it exists too); a write
// some read observed must have taken effect before that read returned, so
// its return becomes the latest such read's return.
func resolveUnknown(history []porcupine.Operation) []porcupine.Operation {
	seen := map[string]int64{}
	for _, op := range history {
		if in := op.Input.(regInput); !in.write {
			v := op.Output.(string)
			seen[v] = max(seen[v], op.Return)
		}
	}
	out := history[:0]
	for _, op := range history {
		in := op.Input.(regInput)
		if in.write && op.Return == neverReturned {
			last, ok := seen[in.value]
			if !ok {
				continue
			}
			op.Return = last
		}
		out = append(out, op)
	}
	return out
}
