package httpapi

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cofferdev/coffer/internal/logical"
)

func TestBuildLogicalRequestRawBody(t *testing.T) {
	h := &Handler{logger: slog.New(slog.DiscardHandler)}
	for _, tc := range []struct {
		name, method, path, body string
		wantRaw                  bool
	}{
		{"snapshot upload", http.MethodPost, "/v1/sys/storage/raft/snapshot", "\x1f\x8bnot json", true},
		{"forced upload over PUT", http.MethodPut, "/v1/sys/storage/raft/snapshot-force", "raw", true},
		{"snapshot download", http.MethodGet, "/v1/sys/storage/raft/snapshot", "", false},
		{"other path", http.MethodPost, "/v1/secret/data/x", `{"a":"b"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			req, _, err := h.buildLogicalRequest(httptest.NewRecorder(), r)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.wantRaw {
				if req.Body != nil {
					t.Fatal("a JSON request got a raw body")
				}
				return
			}
			if req.Data != nil {
				t.Fatalf("raw upload decoded as data: %v", req.Data)
			}
			got, _ := io.ReadAll(req.Body)
			if string(got) != tc.body {
				t.Fatalf("raw body %q, want %q", got, tc.body)
			}
		})
	}
}

func TestWriteStream(t *testing.T) {
	h := &Handler{logger: slog.New(slog.DiscardHandler)}
	for _, tc := range []struct {
		name    string
		writeTo func(io.Writer) error
		want    string
	}{
		{"whole body", func(w io.Writer) error { _, err := io.WriteString(w, "payload"); return err }, "payload"},
		{"cut short", func(w io.Writer) error { _, _ = io.WriteString(w, "pay"); return errors.New("disk gone") }, "pay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			closed := 0
			rec := httptest.NewRecorder()
			h.writeStream(rec, "req-1", &logical.Stream{ContentType: "application/octet-stream", WriteTo: tc.writeTo,
				Close: func() error { closed++; return nil }})
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/octet-stream" {
				t.Fatalf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
			}
			if rec.Body.String() != tc.want || closed != 1 {
				t.Fatalf("body %q (want %q), closed %d times", rec.Body.String(), tc.want, closed)
			}
		})
	}
}
