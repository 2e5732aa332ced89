package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// FuzzAppendEntry feeds request bodies (outside input) through the
// hand-written encoder and checks the result against the reference
// json.Marshal(redact(e)), keyed and raw.
func FuzzAppendEntry(f *testing.F) {
	for _, s := range []string{`{"password":"hunter2","n":3}`, `{"a":[1,"x",{"b":null}],"c":true,"d":1.5e300}`,
		`{"\u2028<k>":"\ud800\b\f"}`, `{}`, `{"deep":{"deeper":{"deepest":["s"]}}}`} {
		f.Add([]byte(s), "hvs.token")
	}
	keyed := &hasher{hashAccessor: true}
	keyed.setKey([]byte("0123456789abcdef0123456789abcdef"))
	raw := &hasher{raw: true}
	f.Fuzz(func(t *testing.T, body []byte, tok string) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var data map[string]any
		if dec.Decode(&data) != nil {
			return
		}
		req := &logical.Request{ID: "id", Operation: logical.UpdateOperation, Path: "secret/data/x", Data: data}
		caller := &Caller{ClientToken: tok, Accessor: "acc", TokenID: tok}
		resp := &logical.Response{Data: data}
		now := time.Unix(1700000000, 0)
		for _, h := range []*hasher{keyed, raw} {
			for _, e := range []*Entry{NewRequestEntry(now, req, "secret/", caller, nil),
				NewResponseEntry(now, req, "secret/", caller, resp, 200, nil)} {
				want, err := json.Marshal(h.redact(e))
				if err != nil {
					t.Fatal(err)
				}
				got := h.appendEntry(nil, e)
				// Numbers are compared as written: the log keeps a request's
				// numbers exactly (1e700 is valid JSON, if not a float64).
				gv, err := decodeNumbers(got)
				if err != nil {
					t.Fatalf("invalid JSON %s: %v", got, err)
				}
				wv, err := decodeNumbers(want)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(gv, wv) {
					t.Errorf("got  %s\nwant %s", got, want)
				}
			}
		}
	})
}

// decodeNumbers decodes one JSON value, keeping numbers as json.Number.
func decodeNumbers(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the value")
	}
	return v, nil
}
