package logicaltest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/storage"
)

// echo is a backend with one path whose writes report the operation they
// arrived as, and which exists once written.
func echo(t *testing.T) *Harness {
	h := New(t, "test/")
	conf := h.Config()
	conf.Logger.Debug("built", "mount", conf.MountPath)
	reply := func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		if err := req.Storage.Put(ctx, &storage.Entry{Key: d.String("name"), Value: []byte("x")}); err != nil {
			return nil, err
		}
		return logical.DataResponse(map[string]any{"op": string(req.Operation), "addr": req.RemoteAddr, "mount": req.MountPoint}), nil
	}
	h.Backend = logical.NewRouter(&logical.Path{
		Pattern: `item/(?P<name>\w+)`,
		Operations: map[logical.Operation]logical.Handler{
			logical.CreateOperation: reply, logical.UpdateOperation: reply,
			logical.ReadOperation: func(context.Context, *logical.Request, *logical.FieldData) (*logical.Response, error) {
				return nil, logical.InvalidRequest("reads are refused")
			},
		},
		Existence: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (bool, error) {
			_, err := req.Storage.Get(ctx, d.String("name"))
			if errors.Is(err, storage.ErrNotFound) {
				return false, nil
			}
			return err == nil, err
		},
	})
	return h
}

func TestDo(t *testing.T) {
	h := echo(t)
	tests := []struct {
		name, addr, wantOp string
	}{
		{"first write creates", DefaultRemoteAddr, "create"},
		{"second write updates", DefaultRemoteAddr, "update"},
		{"from another address", "192.0.2.7", "update"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := h.DoFrom(tt.addr, logical.UpdateOperation, "item/a", nil)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"op": tt.wantOp, "addr": tt.addr, "mount": "test/"}
			if fmt.Sprint(resp.Data) != fmt.Sprint(want) {
				t.Fatalf("got %v, want %v", resp.Data, want)
			}
		})
	}
	if !strings.Contains(h.Logs.String(), "level=DEBUG msg=built mount=test/") {
		t.Fatalf("debug log not captured: %q", h.Logs.String())
	}
}

// fatalRecorder records Fatalf and stops the calling goroutine's function
// by panicking, which the test recovers.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f)
}

func TestMust(t *testing.T) {
	tests := []struct {
		name, path, wantFatal string
	}{
		{"success", "item/b", ""},
		{"error names operation and path", "item/c", "read item/c: reads are refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := echo(t)
			rec := &fatalRecorder{TB: t}
			h.t = rec
			op := logical.UpdateOperation
			if tt.wantFatal != "" {
				op = logical.ReadOperation
			}
			func() {
				defer func() {
					if r := recover(); r != nil && r != rec {
						panic(r)
					}
				}()
				h.Must(op, tt.path, nil)
			}()
			if rec.msg != tt.wantFatal {
				t.Fatalf("fatal message %q, want %q", rec.msg, tt.wantFatal)
			}
		})
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewClock(start)
	c.Advance(time.Hour)
	if got := c.Now(); !got.Equal(start.Add(time.Hour)) {
		t.Fatalf("after Advance: %v", got)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("after Set: %v", got)
	}
}
