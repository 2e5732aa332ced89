package logical

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want time.Duration
		ok   bool
	}{
		{"", 0, true}, {"90", 90 * time.Second, true}, {"90s", 90 * time.Second, true},
		{"1h30m", 90 * time.Minute, true}, {"7d", 7 * 24 * time.Hour, true},
		{json.Number("60"), time.Minute, true}, {float64(30), 30 * time.Second, true},
		{"-5s", 0, false}, {"abc", 0, false}, {"1.5", 0, false}, {true, 0, false},
		{"-1", 0, false}, {"99999999999999999999", 0, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseDuration(%#v) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestFieldConversions(t *testing.T) {
	schema := map[string]*Field{
		"s": {Type: TypeString}, "i": {Type: TypeInt}, "b": {Type: TypeBool},
		"l": {Type: TypeStringSlice}, "kv": {Type: TypeKVPairs}, "m": {Type: TypeMap},
		"d": {Type: TypeDuration, Default: time.Hour},
	}
	d := &FieldData{Schema: schema, Raw: map[string]any{
		"s": json.Number("5"), "i": "42", "b": "true", "l": "a, b,,c", "kv": map[string]any{"x": "y"},
		"m": map[string]any{"k": 1.0}, "extra": 1,
	}}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.String("s") != "5" || d.Int("i") != 42 || !d.Bool("b") || d.Duration("d") != time.Hour {
		t.Fatalf("conversions: s=%q i=%d b=%v d=%v", d.String("s"), d.Int("i"), d.Bool("b"), d.Duration("d"))
	}
	if l := d.Strings("l"); len(l) != 3 || l[2] != "c" {
		t.Fatalf("comma list = %v", l)
	}
	if d.KVPairs("kv")["x"] != "y" || d.Map("m")["k"] != 1.0 {
		t.Fatal("map conversions failed")
	}
	if u := d.Unknown(); len(u) != 1 || u[0] != "extra" {
		t.Fatalf("Unknown = %v", u)
	}
	for name, v := range map[string]any{"i": "4x", "b": "maybe", "l": 5, "kv": map[string]any{"x": []any{}}, "m": "str", "i2": 1.5} {
		if name == "i2" {
			name = "i"
		}
		bad := &FieldData{Schema: schema, Raw: map[string]any{name: v}}
		if err := bad.Validate(); KindOf(err) != KindInvalidRequest {
			t.Errorf("field %s = %#v: err %v; want an invalid-request error", name, v, err)
		}
	}
	req := &FieldData{Schema: map[string]*Field{"r": {Type: TypeString, Required: true}}, Raw: map[string]any{}}
	if err := req.Validate(); err == nil {
		t.Fatal("missing required field accepted")
	}
}

func TestRouter(t *testing.T) {
	var got string
	r := NewRouter(
		&Path{Pattern: "items/(?P<name>[^/]+)", Fields: map[string]*Field{"n": {Type: TypeInt}},
			Operations: map[Operation]Handler{
				ReadOperation: func(_ context.Context, _ *Request, d *FieldData) (*Response, error) {
					got = d.String("name")
					return DataResponse(map[string]any{"n": d.Int("n")}), nil
				},
				UpdateOperation: func(context.Context, *Request, *FieldData) (*Response, error) {
					return &Response{NoContent: true}, nil
				},
			},
			Existence: func(context.Context, *Request, *FieldData) (bool, error) { return false, nil }},
	)
	ctx := context.Background()
	resp, err := r.HandleRequest(ctx, &Request{Operation: ReadOperation, Path: "items/a", Data: map[string]any{"n": "3", "name": "spoofed"}})
	if err != nil || got != "a" || resp.Data["n"] != 3 {
		t.Fatalf("read = %v, %v, name %q; want the path capture to win over the body", resp, err, got)
	}
	if _, err := r.HandleRequest(ctx, &Request{Operation: ReadOperation, Path: "items/a/b"}); KindOf(err) != KindUnsupportedPath {
		t.Fatalf("unmatched path: %v", err)
	}
	if _, err := r.HandleRequest(ctx, &Request{Operation: DeleteOperation, Path: "items/a"}); KindOf(err) != KindUnsupportedOperation {
		t.Fatalf("unsupported op: %v", err)
	}
	resp, err = r.HandleRequest(ctx, &Request{Operation: CreateOperation, Path: "items/a", Data: map[string]any{"zzz": 1}})
	if err != nil || len(resp.Warnings) != 1 {
		t.Fatalf("create falls back to update with an unknown-field warning: %v, %v", resp, err)
	}
	if _, err := r.HandleRequest(ctx, &Request{Operation: UpdateOperation, Path: "items/a", Data: map[string]any{"n": "x"}}); KindOf(err) != KindInvalidRequest {
		t.Fatalf("bad field type: %v", err)
	}
	checked, exists, err := r.Exists(ctx, &Request{Path: "items/a"})
	if !checked || exists || err != nil {
		t.Fatalf("Exists = %v %v %v", checked, exists, err)
	}
	if checked, _, _ := r.Exists(ctx, &Request{Path: "nope"}); checked {
		t.Fatal("existence checked for an unknown path")
	}
}

func TestErrorKinds(t *testing.T) {
	err := Errorf(KindConflict, "x %d", 1)
	if KindOf(err) != KindConflict || err.Error() != "x 1" {
		t.Fatalf("Errorf = %v kind %v", err, KindOf(err))
	}
	if KindOf(errors.New("plain")) != KindInternal {
		t.Fatal("plain error is not internal")
	}
	if !errors.Is(ErrPermissionDenied, ErrPermissionDenied) || errors.Is(ErrInvalidToken, ErrPermissionDenied) {
		t.Fatal("sentinel matching is wrong")
	}
	if ListResponse(nil) != nil || ListResponse([]string{"a"}).Data["keys"].([]string)[0] != "a" {
		t.Fatal("ListResponse")
	}
}
