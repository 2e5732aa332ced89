package bench_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cofferdev/coffer/internal/apiclient"
	"github.com/cofferdev/coffer/internal/bench"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in              string
		name, value     string
		wantErr, inText string // inText: a part the error message must hold
	}{
		{in: "X-Coffer-Consistency: stale", name: "X-Coffer-Consistency", value: "stale"},
		{in: "x-coffer-consistency:stale", name: "X-Coffer-Consistency", value: "stale"},
		{in: "X-A:  \t spaced value \t ", name: "X-A", value: "spaced value"},
		{in: "X-Empty:", name: "X-Empty", value: ""},
		{in: "X-Colon: a:b: c", name: "X-Colon", value: "a:b: c"},
		{in: "X-Tab: a\tb", name: "X-Tab", value: "a\tb"},
		{in: "X-Utf8: café", name: "X-Utf8", value: "café"},
		{in: "X-Vault-Wrap-TTL: 5m", name: "X-Vault-Wrap-Ttl", value: "5m"},
		{in: "no colon", wantErr: "yes", inText: "Name: value"},
		{in: ": value", wantErr: "yes", inText: `name ""`},
		{in: "X A: b", wantErr: "yes", inText: `name "X A"`},
		{in: "X-A : b", wantErr: "yes", inText: `name "X-A "`},
		{in: "X(A): b", wantErr: "yes"},
		{in: "X-A: b\r\nX-Injected: c", wantErr: "yes", inText: "control characters"},
		{in: "X-A: b\x00", wantErr: "yes", inText: "control characters"},
		{in: "X-A: b\x7f", wantErr: "yes", inText: "control characters"},
		{in: "X-Vault-Token: hvs.secret", wantErr: "yes", inText: "X-Vault-Token is set by coffer bench"},
		{in: "content-type: text/plain", wantErr: "yes", inText: "Content-Type is set"},
		{in: "Host: example.com", wantErr: "yes"},
		{in: "X-Long: " + strings.Repeat("a", 9000), wantErr: "yes", inText: "longer than"},
	}
	for _, tt := range tests {
		t.Run(strings.ToValidUTF8(tt.in[:min(len(tt.in), 30)], "?"), func(t *testing.T) {
			name, value, err := bench.ParseHeader(tt.in)
			if tt.wantErr != "" {
				if !errors.Is(err, bench.ErrInvalidHeader) {
					t.Fatalf("ParseHeader(%q) = %q, %q, %v; want ErrInvalidHeader", tt.in, name, value, err)
				}
				if !strings.Contains(err.Error(), tt.inText) {
					t.Errorf("error %q lacks %q", err, tt.inText)
				}
				if strings.Contains(err.Error(), "hvs.secret") {
					t.Errorf("error %q quotes the value", err)
				}
				return
			}
			if err != nil || name != tt.name || value != tt.value {
				t.Fatalf("ParseHeader(%q) = %q, %q, %v; want %q, %q", tt.in, name, value, err, tt.name, tt.value)
			}
		})
	}
}

func TestParseHeaders(t *testing.T) {
	tests := []struct {
		name    string
		specs   []string
		want    http.Header
		wantErr bool
	}{
		{"none", nil, nil, false},
		{"one", []string{"X-Coffer-Consistency: stale"}, http.Header{"X-Coffer-Consistency": {"stale"}}, false},
		{"repeated name keeps every value in order",
			[]string{"X-A: 1", "x-b: 2", "X-a: 3"}, http.Header{"X-A": {"1", "3"}, "X-B": {"2"}}, false},
		{"one bad spec fails the list", []string{"X-A: 1", "bad"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bench.ParseHeaders(tt.specs)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseHeaders(%q) error %v, want error %v", tt.specs, err, tt.wantErr)
			}
			if len(got) != len(tt.want) || (tt.want == nil) != (got == nil) {
				t.Fatalf("ParseHeaders(%q) = %v, want %v", tt.specs, got, tt.want)
			}
			for k, v := range tt.want {
				if !slices.Equal(got[k], v) {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// headerRecorder answers 200 {} and keeps each request's headers.
type headerRecorder struct {
	mu   sync.Mutex
	seen []http.Header
}

func (h *headerRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.seen = append(h.seen, r.Header.Clone())
	h.mu.Unlock()
	_, _ = w.Write([]byte("{}"))
}

func TestTargetWithHeader(t *testing.T) {
	rec := &headerRecorder{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	plain, err := bench.NewTarget(apiclient.Config{Address: srv.URL, Token: "root-token"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(plain.Close)
	h := http.Header{"X-Coffer-Consistency": {"stale"}, "X-Multi": {"a", "b"}}
	withHeader := plain.WithHeader(h)
	h["X-Coffer-Consistency"][0] = "changed after the call" // WithHeader copied h
	ctx := context.Background()
	calls := []struct {
		name      string
		do        func() error
		wantExtra bool
		wantToken string
		wantType  string
	}{
		{"Do with the headers", func() error {
			return withHeader.Do(ctx, bench.Op{Method: http.MethodPut, Path: "kv/a", Body: []byte(`{}`)})
		}, true, "root-token", "application/json"},
		{"Do with an op token", func() error {
			return withHeader.Do(ctx, bench.Op{Method: http.MethodGet, Path: "kv/a", Token: "op-token"})
		}, true, "op-token", ""},
		{"Do without a token", func() error {
			return withHeader.Do(ctx, bench.Op{Method: http.MethodGet, Path: "kv/a", Token: bench.NoToken})
		}, true, "", ""},
		{"Fetch with the headers", func() error {
			_, err := withHeader.Fetch(ctx, bench.Op{Method: http.MethodGet, Path: "kv/a"})
			return err
		}, true, "root-token", ""},
		{"the original Target is unchanged", func() error {
			return plain.Do(ctx, bench.Op{Method: http.MethodGet, Path: "kv/a"})
		}, false, "root-token", ""},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			rec.mu.Lock()
			rec.seen = nil
			rec.mu.Unlock()
			if err := c.do(); err != nil {
				t.Fatal(err)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.seen) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(rec.seen))
			}
			got := rec.seen[0]
			wantC, wantM := []string(nil), []string(nil)
			if c.wantExtra {
				wantC, wantM = []string{"stale"}, []string{"a", "b"}
			}
			if !slices.Equal(got["X-Coffer-Consistency"], wantC) || !slices.Equal(got["X-Multi"], wantM) {
				t.Errorf("extra headers %q %q, want %q %q", got["X-Coffer-Consistency"], got["X-Multi"], wantC, wantM)
			}
			if got.Get("X-Vault-Token") != c.wantToken || got.Get("Content-Type") != c.wantType {
				t.Errorf("token %q, content type %q; want %q, %q", got.Get("X-Vault-Token"), got.Get("Content-Type"), c.wantToken, c.wantType)
			}
		})
	}
}

// FuzzParseHeader checks that ParseHeader either refuses its input with
// ErrInvalidHeader or returns a canonical name and a value that net/http
// sends as they are, and that formatting them again parses to the same.
func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{
		"X-Coffer-Consistency: stale", "x-a:b", "X-A:", ": v", "X A: b", "X-A: b\r\nX-B: c",
		"X-Vault-Token: t", "X-A: \tcafé\t", "!#$%&'*+-.^_`|~09azAZ: v", "X-A: a:b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, value, err := bench.ParseHeader(s)
		if err != nil {
			if !errors.Is(err, bench.ErrInvalidHeader) {
				t.Fatalf("ParseHeader(%q): error %v does not wrap ErrInvalidHeader", s, err)
			}
			return
		}
		if name == "" || name != http.CanonicalHeaderKey(name) {
			t.Fatalf("ParseHeader(%q): name %q is empty or not canonical", s, name)
		}
		if strings.ContainsAny(value, "\r\n\x00") || strings.Trim(value, " \t") != value {
			t.Fatalf("ParseHeader(%q): value %q holds CR, LF, NUL or untrimmed space", s, value)
		}
		n2, v2, err := bench.ParseHeader(name + ": " + value)
		if err != nil || n2 != name || v2 != value {
			t.Fatalf("round trip of %q: %q, %q, %v; want %q, %q", s, n2, v2, err, name, value)
		}
		req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header[name] = []string{value}
		var b strings.Builder
		if err := req.Header.Write(&b); err != nil {
			t.Fatal(err)
		}
		if want := name + ": " + value + "\r\n"; b.String() != want {
			t.Fatalf("net/http writes %q, want %q", b.String(), want)
		}
	})
}
