package audit

import (
	"bytes"
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
