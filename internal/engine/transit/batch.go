package transit

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
)

// maxBatchItems bounds one batch_input; the HTTP request size limit bounds
// it too, this keeps internal callers honest.
const maxBatchItems = 10000

// itemKind is the type of one batch item field.
type itemKind int

const (
	kindString itemKind = iota + 1
	kindInt
)

// batchItem is one decoded batch_input element (or the request's top-level
// fields when there is no batch_input): field name to string or int.
type batchItem map[string]any

// decodeBatch decodes batch_input: a JSON array of objects, or a string
// holding one. Fields in schema are converted to their kind; a wrong type
// fails the whole request, as Vault's decoding does. Unknown fields are
// ignored.
func decodeBatch(raw any, schema map[string]itemKind) ([]batchItem, error) {
	if s, ok := raw.(string); ok {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, logical.InvalidRequest("failed to parse batch input: invalid JSON")
		}
		raw = v
	}
	var list []any
	switch x := raw.(type) {
	case []any:
		list = x
	case []map[string]any:
		for _, m := range x {
			list = append(list, m)
		}
	default:
		return nil, logical.InvalidRequest("failed to parse batch input: expected a list of objects")
	}
	if len(list) == 0 {
		return nil, logical.InvalidRequest("missing batch input to process")
	}
	if len(list) > maxBatchItems {
		return nil, logical.InvalidRequest("batch input has more than %d items", maxBatchItems)
	}
	out := make([]batchItem, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, logical.InvalidRequest("failed to parse batch input: item %d is not an object", i)
		}
		item, err := convertItem(m, schema)
		if err != nil {
			return nil, logical.InvalidRequest("failed to parse batch input: item %d: %v", i, err)
		}
		out[i] = item
	}
	return out, nil
}

func convertItem(m map[string]any, schema map[string]itemKind) (batchItem, error) {
	item := make(batchItem, len(m))
	for name, kind := range schema {
		v, ok := m[name]
		if !ok || v == nil {
			continue
		}
		var (
			c   any
			err error
		)
		switch kind {
		case kindString:
			c, err = itemString(v)
		case kindInt:
			c, err = logical.ToInt(v)
		}
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", name, err)
		}
		item[name] = c
	}
	return item, nil
}

func itemString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	}
	return "", fmt.Errorf("expected a string")
}

// topLevelItem builds the single item of a request without batch_input
// from its fields.
func topLevelItem(d *logical.FieldData, schema map[string]itemKind) batchItem {
	item := batchItem{}
	for name := range schema {
		if _, declared := d.Schema[name]; !declared {
			continue
		}
		if v, ok := d.GetOk(name); ok {
			item[name] = v
		}
	}
	return item
}

// requestItems returns the batch items and whether the request was a batch.
func requestItems(d *logical.FieldData, schema map[string]itemKind) ([]batchItem, bool, error) {
	if raw, ok := d.GetOk("batch_input"); ok {
		items, err := decodeBatch(raw, schema)
		return items, true, err
	}
	return []batchItem{topLevelItem(d, schema)}, false, nil
}

func (it batchItem) str(name string) (string, bool) {
	s, ok := it[name].(string)
	return s, ok
}

func (it batchItem) num(name string) int {
	n, _ := it[name].(int)
	return n
}

// bytes base64-decodes field name; absent means nil.
func (it batchItem) bytes(name string) ([]byte, error) {
	s, _ := it.str(name)
	if s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, logical.InvalidRequest("failed to base64-decode %s", name)
	}
	return b, nil
}

// itemError is the message a batch result carries for err: the safe
// client message of request errors, a fixed text for internal ones.
func itemError(err error) string {
	if logical.KindOf(err) == logical.KindInternal {
		return "internal error"
	}
	return err.Error()
}

// runBatch applies fn to every item. A single request returns fn's result
// or error as is; a batch returns {"batch_results": [...]} with per-item
// errors and each item's reference echoed back, as Vault does.
func runBatch(items []batchItem, batch bool, fn func(batchItem) (map[string]any, error)) (*logical.Response, error) {
	if !batch {
		out, err := fn(items[0])
		if err != nil {
			return nil, err
		}
		return logical.DataResponse(out), nil
	}
	results := make([]map[string]any, len(items))
	failed := false
	for i, it := range items {
		out, err := fn(it)
		if err != nil {
			out = map[string]any{"error": itemError(err)}
			failed = true
		}
		ref, _ := it.str("reference")
		out["reference"] = ref
		results[i] = out
	}
	resp := logical.DataResponse(map[string]any{"batch_results": results})
	resp.PartialFailure = failed
	return resp, nil
}
