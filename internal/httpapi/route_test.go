package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cofferdev/coffer/internal/core"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// TestRouteAnswersAsTheMux: the pipeline's shortcut past the mux gives every
// request the answer the mux alone gives it: same handler, same redirects
// for unclean paths, same sys/ endpoints.
func TestRouteAnswersAsTheMux(t *testing.T) {
	c, err := core.New(core.Config{Physical: inmem.New()})
	if err != nil {
		t.Fatal(err)
	}
	h := New(c, Options{})
	paths := []string{
		"/v1/secret/data/x", "/v1/secret/metadata/", "/v1/secret//x", "/v1/secret/./x", "/v1/secret/x/.",
		"/v1/secret/../sys/init", "/v1/secret/x/..", "/v1/secret/x//", "/v1/sys/init", "/v1/sys/seal-status",
		"/v1/sys/mounts", "/v1/sys", "/v1/", "/v1", "/v2/x", "/", "/v1/auth/token/lookup-self", "/v1/a/",
		"/v1/sys%2Fseal-status", "/v1/secret%2Fdata/x", "/v1/x%2F..%2Fsys/init",
	}
	seen := map[int]bool{}
	for _, p := range paths {
		for _, method := range []string{http.MethodGet, http.MethodPost, "LIST"} {
			want, got := httptest.NewRecorder(), httptest.NewRecorder()
			h.mux.ServeHTTP(want, httptest.NewRequest(method, p, nil))
			h.route(got, httptest.NewRequest(method, p, nil))
			if got.Code != want.Code || got.Header().Get("Location") != want.Header().Get("Location") || got.Body.String() != want.Body.String() {
				t.Errorf("%s %s: route answered %d %q %s, the mux %d %q %s", method, p,
					got.Code, got.Header().Get("Location"), got.Body, want.Code, want.Header().Get("Location"), want.Body)
			}
			seen[want.Code] = true
		}
	}
	// The table reaches the pipeline (503, sealed), the mux's redirects and
	// its own endpoints, so the comparison covers each kind of answer.
	for _, code := range []int{http.StatusServiceUnavailable, http.StatusTemporaryRedirect, http.StatusOK, http.StatusNotFound} {
		if !seen[code] {
			t.Errorf("no path in the table got a %d", code)
		}
	}
}

func TestIsClean(t *testing.T) {
	for p, want := range map[string]bool{
		"/v1/a": true, "/v1/a/": true, "/v1/": true, "/": true,
		"/v1//a": false, "/v1/a//": false, "/v1/./a": false, "/v1/a/..": false, "/v1/a/../": false, "/v1/a/.": false,
	} {
		if got := isClean(p); got != want {
			t.Errorf("isClean(%q) = %v, want %v", p, got, want)
		}
	}
}
