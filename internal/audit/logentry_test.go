package audit

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// TestLogRequestResponseMatchLog checks that LogRequest and LogResponse
// write exactly what Log writes for NewRequestEntry and NewResponseEntry.
func TestLogRequestResponseMatchLog(t *testing.T) {
	now := time.Date(2026, 11, 24, 1, 2, 3, 456789, time.FixedZone("x", 3600))
	req := &logical.Request{ID: "r1", Operation: logical.UpdateOperation, Path: "secret/data/x",
		Data: map[string]any{"password": "hunter2", "n": 3}, RemoteAddr: "10.0.0.1", WrapTTL: time.Minute}
	caller := &Caller{ClientToken: "hvs.tok", Accessor: "acc", DisplayName: "d", Policies: []string{"p"}, TokenID: "id1"}
	tests := []struct {
		name   string
		caller *Caller
		resp   *logical.Response
		err    error
	}{
		{"no caller", nil, nil, logical.ErrPermissionDenied},
		{"caller", caller, &logical.Response{Data: map[string]any{"k": "v"}, Warnings: []string{"w"}}, nil},
		{"issued auth", caller, &logical.Response{Auth: &logical.Auth{ClientToken: "hvs.new", Accessor: "a2"},
			Secret: &logical.Secret{LeaseID: "l1"}}, nil},
		{"wrapped", caller, &logical.Response{Data: map[string]any{"k": "v"}, WrapInfo: &logical.WrapInfo{Token: "hvs.w",
			Accessor: "wa", TTL: time.Minute, CreationPath: "secret/data/x"}}, nil},
		{"internal error", caller, nil, logical.Errorf(logical.KindInternal, "disk on fire")},
	}
	keys, _ := testKeys("stdout")
	run := func(direct bool) []byte {
		var out bytes.Buffer
		b, err := NewBroker([]SinkConfig{{Type: "stdout", Name: "stdout", HMACAccessor: true, CheckpointEntries: 1000,
			CheckpointInterval: time.Hour}}, BrokerOptions{Stdout: &out, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Unlock(keys); err != nil {
			t.Fatal(err)
		}
		for _, tc := range tests {
			var lerr error
			if direct {
				lerr = b.LogRequest(now, req, "secret/", tc.caller, tc.err)
				if lerr == nil {
					lerr = b.LogResponse(now, req, "secret/", tc.caller, tc.resp, 200, tc.err)
				}
			} else {
				lerr = b.Log(NewRequestEntry(now, req, "secret/", tc.caller, tc.err))
				if lerr == nil {
					lerr = b.Log(NewResponseEntry(now, req, "secret/", tc.caller, tc.resp, 200, tc.err))
				}
			}
			if lerr != nil {
				t.Fatalf("%s: %v", tc.name, lerr)
			}
		}
		_ = b.Close()
		return out.Bytes()
	}
	want, got := run(false), run(true)
	if !bytes.Equal(got, want) {
		t.Errorf("LogRequest/LogResponse wrote\n%s\nLog wrote\n%s", got, want)
	}
	if n := bytes.Count(got, []byte("\n")); n != 2*len(tests)+3 {
		t.Errorf("%d lines, want %d", n, 2*len(tests)+3)
	}
	if bytes.Contains(got, []byte("hunter2")) || bytes.Contains(got, []byte("hvs.tok")) || bytes.Contains(got, []byte("disk on fire")) {
		t.Errorf("secret or internal detail written:\n%s", got)
	}
}

// writeRecorder keeps each Write as it came, and fails those numbered in
// fail (counting from 1) without keeping them.
type writeRecorder struct {
	writes [][]byte
	calls  int
	fail   map[int]bool
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.calls++
	if w.fail[w.calls] {
		return 0, errors.New("disk full")
	}
	w.writes = append(w.writes, append([]byte(nil), p...))
	return len(p), nil
}

func (w *writeRecorder) bytes() []byte { return bytes.Join(w.writes, nil) }

// TestLogExchange checks that LogExchange writes what LogRequest then
// LogResponse write, as one write of two lines, and that a failed write
// leaves the chain where it was.
func TestLogExchange(t *testing.T) {
	reqAt := time.Date(2026, 11, 24, 1, 2, 3, 456789, time.UTC)
	respAt := reqAt.Add(time.Millisecond)
	req := &logical.Request{ID: "r1", Operation: logical.ReadOperation, Path: "secret/data/x", RemoteAddr: "10.0.0.1"}
	caller := &Caller{ClientToken: "hvs.tok", Accessor: "acc", Policies: []string{"p"}, TokenID: "id1"}
	resps := []struct {
		resp *logical.Response
		err  error
	}{
		{&logical.Response{Data: map[string]any{"password": "hunter2"}}, nil},
		{nil, logical.ErrUnsupportedPath},
		{&logical.Response{Data: map[string]any{"keys": []any{"a", "b"}}}, nil},
	}
	keys, pub := testKeys("stdout")
	newBroker := func(w *writeRecorder, every int) *Broker {
		b, err := NewBroker([]SinkConfig{{Type: "stdout", Name: "stdout", HMACAccessor: true, CheckpointEntries: every,
			CheckpointInterval: time.Hour}}, BrokerOptions{Stdout: w, Now: func() time.Time { return respAt }})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Unlock(keys); err != nil {
			t.Fatal(err)
		}
		return b
	}

	var apart, together writeRecorder
	b1, b2 := newBroker(&apart, 1000), newBroker(&together, 1000)
	for _, r := range resps {
		if err := b1.LogRequest(reqAt, req, "secret/", caller, nil); err != nil {
			t.Fatal(err)
		}
		if err := b1.LogResponse(respAt, req, "secret/", caller, r.resp, 200, r.err); err != nil {
			t.Fatal(err)
		}
		if err := b2.LogExchange(reqAt, respAt, req, "secret/", caller, r.resp, 200, r.err); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = b1.Close(), b2.Close()
	if !bytes.Equal(together.bytes(), apart.bytes()) {
		t.Fatalf("LogExchange wrote\n%s\nLogRequest and LogResponse wrote\n%s", together.bytes(), apart.bytes())
	}
	// header, checkpoint at unlock, the exchanges, final checkpoint
	if len(together.writes) != 2+len(resps)+1 {
		t.Fatalf("%d writes, want %d", len(together.writes), 2+len(resps)+1)
	}
	for _, w := range together.writes[2 : 2+len(resps)] {
		if n := bytes.Count(w, []byte("\n")); n != 2 || !bytes.Contains(w, []byte(`"type":"request"`)) ||
			!bytes.Contains(w, []byte(`"type":"response"`)) {
			t.Fatalf("an exchange was written as %q, want its request and response lines", w)
		}
	}

	// Checkpoints every 3 entries fall inside and after pairs; the third
	// exchange's write fails and the chain continues from the second.
	failing := writeRecorder{fail: map[int]bool{}}
	b3 := newBroker(&failing, 3)
	for i := range 6 {
		r := resps[i%len(resps)]
		if i == 4 {
			failing.fail[failing.calls+1] = true
		}
		err := b3.LogExchange(reqAt, respAt, req, "secret/", caller, r.resp, 200, r.err)
		if (err != nil) != (i == 4) {
			t.Fatalf("exchange %d: err = %v", i, err)
		}
	}
	_ = b3.Close()
	sum, err := VerifyBytes(VerifyOptions{PublicKey: pub}, "stdout", failing.bytes())
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, failing.bytes())
	}
	if want := uint64(5 * 2); sum.Entries < want {
		t.Fatalf("verified %d entries, want at least the %d of the exchanges written", sum.Entries, want)
	}
	if bytes.Contains(failing.bytes(), []byte("hunter2")) || bytes.Contains(failing.bytes(), []byte("hvs.tok")) {
		t.Fatalf("secret written:\n%s", failing.bytes())
	}
}
