package core

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/audit"
	"github.com/cofferdev/coffer/internal/engine/cubbyhole"
	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// auditWrites records each write an audit sink makes; while failing is
// set, writes fail and are not kept.
type auditWrites struct {
	mu      sync.Mutex
	writes  [][]byte
	failing bool
}

func (w *auditWrites) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failing {
		return 0, errors.New("disk full")
	}
	w.writes = append(w.writes, append([]byte(nil), p...))
	return len(p), nil
}

func (w *auditWrites) setFailing(f bool) {
	w.mu.Lock()
	w.failing = f
	w.mu.Unlock()
}

// since returns the writes after the first n.
func (w *auditWrites) since(n int) [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([][]byte(nil), w.writes[n:]...)
}

func (w *auditWrites) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.writes)
}

// probeFactory builds an engine with a read that changes nothing (pure), a
// read that writes storage (count: it counts its reads) and a plain read
// of the counter (value). onWrite runs right after count's write. The
// local-pure and local-count paths do the same for updates on paths that
// choose logical.StandbyLocal (as transit's cryptography does), and
// update-pure for an update on a path that does not.
func probeFactory(onWrite func()) logical.Factory {
	return func(ctx context.Context, cfg *logical.BackendConfig) (logical.Backend, error) {
		read := func(h logical.Handler) map[logical.Operation]logical.Handler {
			return map[logical.Operation]logical.Handler{logical.ReadOperation: h, logical.ListOperation: h}
		}
		update := func(h logical.Handler) map[logical.Operation]logical.Handler {
			return map[logical.Operation]logical.Handler{logical.UpdateOperation: h}
		}
		value := func(ctx context.Context, req *logical.Request) (int, error) {
			e, err := req.Storage.Get(ctx, "count")
			if errors.Is(err, storage.ErrNotFound) {
				return 0, nil
			}
			if err != nil {
				return 0, err
			}
			return strconv.Atoi(string(e.Value))
		}
		pure := func(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
			return &logical.Response{Data: map[string]any{"secret": "s3cr3t-value"}}, nil
		}
		count := func(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
			n, err := value(ctx, req)
			if err != nil {
				return nil, err
			}
			if err := req.Storage.Put(ctx, &storage.Entry{Key: "count", Value: []byte(strconv.Itoa(n + 1))}); err != nil {
				return nil, err
			}
			onWrite()
			return &logical.Response{Data: map[string]any{"count": n + 1}}, nil
		}
		return logical.NewRouter(
			&logical.Path{Pattern: "pure", Operations: read(pure)},
			&logical.Path{Pattern: "count", Operations: read(count)},
			&logical.Path{Pattern: "local-pure", Operations: update(pure), Standby: logical.StandbyLocal},
			&logical.Path{Pattern: "local-count", Operations: update(count), Standby: logical.StandbyLocal},
			&logical.Path{Pattern: "update-pure", Operations: update(pure)},
			&logical.Path{Pattern: "panic", Operations: read(func(context.Context, *logical.Request, *logical.FieldData) (*logical.Response, error) {
				panic("probe: backend bug")
			})},
			&logical.Path{Pattern: "value", Operations: read(func(ctx context.Context, req *logical.Request, _ *logical.FieldData) (*logical.Response, error) {
				n, err := value(ctx, req)
				return &logical.Response{Data: map[string]any{"count": n}}, err
			})},
		), nil
	}
}

// TestAuditHeldBackForReads checks that a read's request entry (or that of
// an update on a StandbyLocal path) goes out with its response entry in one
// write, but on its own and first as soon as the request writes storage;
// and that a request whose held-back entry cannot be written fails without
// its write happening.
func TestAuditHeldBackForReads(t *testing.T) {
	rec := &auditWrites{}
	broker, err := audit.NewBroker([]audit.SinkConfig{{Type: "stdout", Name: "stdout", HMACAccessor: true,
		CheckpointEntries: 1000, CheckpointInterval: time.Hour}}, audit.BrokerOptions{Stdout: rec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = broker.Close() })
	// wroteBefore is how many audit writes there were when count's
	// storage write returned.
	var wroteBefore int
	c, root := newUnsealedCore(t, Config{Physical: inmem.New(), Audit: broker,
		Factories: map[string]logical.Factory{"cubbyhole": cubbyhole.Factory, "probe": probeFactory(func() { wroteBefore = rec.count() })}})
	mustDo(t, c, logical.UpdateOperation, "sys/mounts/probe", root, map[string]any{"type": "probe"})
	limited := mustDo(t, c, logical.UpdateOperation, "auth/token/create", root, map[string]any{"num_uses": 5}).Auth.ClientToken

	// lines returns each write's entry types, e.g. "request+response".
	lines := func(ws [][]byte) []string {
		var out []string
		for _, w := range ws {
			var types []string
			for _, l := range bytes.Split(bytes.TrimSuffix(w, []byte("\n")), []byte("\n")) {
				pl, err := audit.ParseLine(l)
				if err != nil {
					t.Fatalf("unparsable audit line %q: %v", l, err)
				}
				types = append(types, pl.Type)
			}
			out = append(out, strings.Join(types, "+"))
		}
		return out
	}
	step := func(name string, op logical.Operation, path, tok string, want ...string) {
		t.Helper()
		n := rec.count()
		mustDo(t, c, op, path, tok, nil)
		got := lines(rec.since(n))
		if !slices.Equal(got, want) {
			t.Errorf("%s: audit writes %v, want %v", name, got, want)
		}
	}
	step("pure read", logical.ReadOperation, "probe/pure", root, "request+response")
	step("list", logical.ListOperation, "probe/pure", root, "request+response")
	step("read of a token with uses", logical.ReadOperation, "probe/pure", limited, "request", "response")
	step("write", logical.UpdateOperation, "auth/token/create", root, "request", "response")
	step("read on a system path", logical.ReadOperation, "sys/mounts", root, "request", "response")
	step("update on a StandbyLocal path", logical.UpdateOperation, "probe/local-pure", root, "request+response")
	step("update on a StandbyLocal path, token with uses", logical.UpdateOperation, "probe/local-pure", limited, "request", "response")
	step("update on a StandbyDefault path", logical.UpdateOperation, "probe/update-pure", root, "request", "response")

	n := rec.count()
	step("read that writes", logical.ReadOperation, "probe/count", root, "request", "response")
	if wroteBefore != n+1 {
		t.Errorf("the read's storage write happened after %d audit writes, want %d: its request entry first", wroteBefore-n, 1)
	}
	n = rec.count()
	step("StandbyLocal update that writes", logical.UpdateOperation, "probe/local-count", root, "request", "response")
	if wroteBefore != n+1 {
		t.Errorf("the update's storage write happened after %d audit writes, want %d: its request entry first", wroteBefore-n, 1)
	}
	for _, w := range rec.since(0) {
		if bytes.Contains(w, []byte("s3cr3t-value")) || bytes.Contains(w, []byte(root)) {
			t.Fatalf("audit write holds a secret: %s", w)
		}
	}

	// A read whose backend panics is still on record.
	n = rec.count()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the probe did not panic")
			}
		}()
		_, _ = do(t, c, logical.ReadOperation, "probe/panic", root, nil)
	}()
	if got := lines(rec.since(n)); !slices.Equal(got, []string{"request"}) {
		t.Errorf("panicking read: audit writes %v, want its request entry", got)
	}

	// Fail closed: the read is refused before its storage write.
	rec.setFailing(true)
	if _, err := do(t, c, logical.ReadOperation, "probe/count", root, nil); logical.KindOf(err) != logical.KindInternal {
		t.Fatalf("read that writes with the audit sink failing: err = %v, want the audit failure", err)
	}
	if _, err := do(t, c, logical.ReadOperation, "probe/pure", root, nil); logical.KindOf(err) != logical.KindInternal {
		t.Fatalf("pure read with the audit sink failing: err = %v, want the audit failure", err)
	}
	if _, err := do(t, c, logical.UpdateOperation, "probe/local-count", root, nil); logical.KindOf(err) != logical.KindInternal {
		t.Fatalf("StandbyLocal update that writes with the audit sink failing: err = %v, want the audit failure", err)
	}
	if resp, err := do(t, c, logical.UpdateOperation, "probe/local-pure", root, nil); logical.KindOf(err) != logical.KindInternal || resp != nil {
		t.Fatalf("StandbyLocal update with the audit sink failing: resp = %v, err = %v, want no response and the audit failure", resp, err)
	}
	rec.setFailing(false)
	if got := mustDo(t, c, logical.ReadOperation, "probe/value", root, nil).Data["count"]; got != 2 {
		t.Fatalf("count = %v after two audited requests that count and two refused, want 2", got)
	}
}
